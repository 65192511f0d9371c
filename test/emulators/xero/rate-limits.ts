/**
 * Xero's API limits: per tenant 60 calls a minute, 5,000 a day and 5 at once; per app 10,000
 * a minute. Every answer reports what is left in `X-*-Remaining` headers, and a 429 names the
 * exhausted limit in `X-Rate-Limit-Problem`.
 */
import type { Response } from 'express';
import { SlidingWindowCounter, ScopedLimits, admit, type Admission, type Clock } from '../rate-limiter';

export type XeroRateLimitProblem = 'minute' | 'day' | 'concurrent' | 'appminute';

export const XERO_RATE_LIMIT_PROBLEMS: readonly XeroRateLimitProblem[] = ['minute', 'day', 'concurrent', 'appminute'];

export interface XeroLimits {
  perMinute: number;
  perDay: number;
  concurrent: number;
  appPerMinute: number;
}

const DEFAULT_LIMITS: XeroLimits = { perMinute: 60, perDay: 5000, concurrent: 5, appPerMinute: 10_000 };

export type XeroRateLimits = ReturnType<typeof createXeroRateLimits>;

export function createXeroRateLimits(
  initial: Partial<XeroLimits> | undefined,
  windowMs: { minute?: number; day?: number } | undefined,
  now: Clock,
) {
  const limits: XeroLimits = { ...DEFAULT_LIMITS, ...initial };
  const minuteMs = windowMs?.minute ?? 60_000;
  const tenants = new ScopedLimits(
    {
      minute: { windowMs: minuteMs, limit: () => limits.perMinute },
      day: { windowMs: windowMs?.day ?? 86_400_000, limit: () => limits.perDay },
    },
    () => limits.concurrent,
  );
  const appMinute = new SlidingWindowCounter(limits.appPerMinute, minuteMs);

  return {
    tenants,
    /** The day window outranks the minute ones, so a caller told to wait waits long enough. */
    admit(tenantId: string): Admission<XeroRateLimitProblem> {
      const { windows, gate } = tenants.get(tenantId);
      return admit(
        [
          { problem: 'day' as const, counter: windows.day },
          { problem: 'minute' as const, counter: windows.minute },
          { problem: 'appminute' as const, counter: appMinute },
        ],
        { problem: 'concurrent', gate },
        now(),
      );
    },
    /** The `X-*-Remaining` headers; the tenant's only once the call is known to reach one. */
    setRemaining(res: Response, tenantId: string | undefined): void {
      const at = now();
      if (tenantId !== undefined) {
        const { windows } = tenants.get(tenantId);
        res.set('X-DayLimit-Remaining', String(windows.day.remaining(at)));
        res.set('X-MinLimit-Remaining', String(windows.minute.remaining(at)));
      }
      res.set('X-AppMinLimit-Remaining', String(appMinute.remaining(at)));
    },
    setLimits(next: Partial<XeroLimits>): void {
      Object.assign(limits, next);
      appMinute.limit = limits.appPerMinute;
      tenants.applyLimits();
    },
    reset(): void {
      appMinute.reset();
      tenants.resetWindows();
    },
  };
}
