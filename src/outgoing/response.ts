/** How a receiver's answer decides a delivery attempt, following the Standard Webhooks sender advice. */
export type AttemptVerdict =
  | { kind: 'success' }
  /** 410: the receiver asks us to stop; the webhook is disabled. */
  | { kind: 'gone'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

const SLOW_DOWN = new Set([429, 502, 503, 504]);

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** 2xx succeeds; a redirect is a failure (never followed); 410 stops; everything else is retried. */
export function classifyResponse(status: number, headers: Record<string, string>, now: Date): AttemptVerdict {
  if (status >= 200 && status < 300) return { kind: 'success' };
  if (status === 410) return { kind: 'gone', reason: 'the receiver answered 410 Gone' };
  const reason =
    status >= 300 && status < 400
      ? `the receiver answered ${status} (redirects are not followed${headers['location'] ? ` — Location: ${headers['location']}` : ''})`
      : `the receiver answered ${status}`;
  const retryAfterMs = SLOW_DOWN.has(status) ? parseRetryAfter(headers['retry-after'], now) : undefined;
  return retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs };
}

/**
 * The wait before the next attempt after attempt `attempt` (1-based) failed: the schedule's
 * step, or longer when the receiver's `Retry-After` asks for more (capped). Undefined when
 * the schedule is used up.
 */
export function nextRetryDelayMs(
  scheduleMs: readonly number[],
  attempt: number,
  retryAfterMs: number | undefined,
  maxRetryAfterMs: number,
): number | undefined {
  const step = scheduleMs[attempt - 1];
  if (step === undefined) return undefined;
  return Math.max(step, Math.min(retryAfterMs ?? 0, maxRetryAfterMs));
}
