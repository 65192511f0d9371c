/**
 * QuickBooks' throttling per realm: 500 requests a minute, 10 a second, 10 at once, and 40
 * batch requests a minute (of at most 30 items). A 429 carries the ThrottleExceeded Fault and
 * `Retry-After` (60 seconds unless configured).
 */
import { ScopedLimits, admit, type Admission, type Clock, type WindowRule } from '../rate-limiter';

export type QuickBooksRateLimitProblem = 'minute' | 'second' | 'concurrent' | 'batch';

export const QUICKBOOKS_RATE_LIMIT_PROBLEMS: readonly QuickBooksRateLimitProblem[] = [
  'minute',
  'second',
  'concurrent',
  'batch',
];

export interface QuickBooksLimits {
  perMinute: number;
  perSecond: number;
  concurrent: number;
  batchPerMinute: number;
  maxBatchItems: number;
}

const DEFAULT_LIMITS: QuickBooksLimits = {
  perMinute: 500,
  perSecond: 10,
  concurrent: 10,
  batchPerMinute: 40,
  maxBatchItems: 30,
};

export type QuickBooksRateLimits = ReturnType<typeof createQuickBooksRateLimits>;

export function createQuickBooksRateLimits(
  initial: Partial<QuickBooksLimits> | undefined,
  windowMs: { second?: number; minute?: number } | undefined,
  now: Clock,
) {
  const limits: QuickBooksLimits = { ...DEFAULT_LIMITS, ...initial };
  const minuteMs = windowMs?.minute ?? 60_000;
  const realms = new ScopedLimits(
    {
      minute: { windowMs: minuteMs, limit: () => limits.perMinute },
      second: { windowMs: windowMs?.second ?? 1000, limit: () => limits.perSecond },
      batch: { windowMs: minuteMs, limit: () => limits.batchPerMinute },
    },
    () => limits.concurrent,
  );

  return {
    realms,
    maxBatchItems: (): number => limits.maxBatchItems,
    admit(realmId: string, isBatch: boolean): Admission<QuickBooksRateLimitProblem> {
      const { windows, gate } = realms.get(realmId);
      const rules: WindowRule<QuickBooksRateLimitProblem>[] = [{ problem: 'minute', counter: windows.minute }];
      if (isBatch) rules.push({ problem: 'batch', counter: windows.batch });
      rules.push({ problem: 'second', counter: windows.second });
      return admit(rules, { problem: 'concurrent', gate }, now());
    },
    setLimits(next: Partial<QuickBooksLimits>): void {
      Object.assign(limits, next);
      realms.applyLimits();
    },
  };
}
