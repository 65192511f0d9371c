import { addressWindow, type AddressScope, type AddressWindow } from './address-limits';
import type { Queryable } from '../db/pool';
import { ShortCache } from '../security/short-cache';
import { pruneRejectedRequests } from '../ingress/inbound-requests';
import type { Logger } from '../logger';

/**
 * What anonymous requests may cost us: rejected ingress requests are stored truncated and
 * counted per source address (past the limit they are answered 429 and not stored), failed
 * authentications and token requests are counted per address too, and old rejected requests
 * are pruned.
 */
export interface AbuseLimits {
  rejectedBodyMaxBytes: number;
  rejectedPerAddress: number;
  rejectedWindowSeconds: number;
  authFailuresPerAddress: number;
  tokenRequestsPerAddress: number;
  authWindowSeconds: number;
}

export function abuseLimits(config: {
  REJECTED_BODY_MAX_BYTES: number;
  REJECTED_REQUESTS_PER_ADDRESS: number;
  REJECTED_REQUESTS_WINDOW_SECONDS: number;
  AUTH_FAILURES_PER_ADDRESS: number;
  TOKEN_REQUESTS_PER_ADDRESS: number;
  AUTH_LIMIT_WINDOW_SECONDS: number;
}): AbuseLimits {
  return {
    rejectedBodyMaxBytes: config.REJECTED_BODY_MAX_BYTES,
    rejectedPerAddress: config.REJECTED_REQUESTS_PER_ADDRESS,
    rejectedWindowSeconds: config.REJECTED_REQUESTS_WINDOW_SECONDS,
    authFailuresPerAddress: config.AUTH_FAILURES_PER_ADDRESS,
    tokenRequestsPerAddress: config.TOKEN_REQUESTS_PER_ADDRESS,
    authWindowSeconds: config.AUTH_LIMIT_WINDOW_SECONDS,
  };
}

/** The defaults of the settings, for callers built without a configuration. */
export const DEFAULT_ABUSE_LIMITS: AbuseLimits = {
  rejectedBodyMaxBytes: 4096,
  rejectedPerAddress: 120,
  rejectedWindowSeconds: 60,
  authFailuresPerAddress: 60,
  tokenRequestsPerAddress: 120,
  authWindowSeconds: 60,
};

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const decide = (count: number, limit: number, resetsAt: Date): LimitDecision =>
  limit > 0 && count > limit
    ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000)) }
    : { allowed: true };

/** One per-address limit: what is counted, how many per window (0 = unlimited) and the window. */
export interface AddressLimit {
  scope: AddressScope;
  limit: number;
  windowSeconds: number;
}

/** The settings' limit for one scope. */
export function addressLimit(limits: AbuseLimits, scope: AddressScope): AddressLimit {
  const [limit, windowSeconds] =
    scope === 'rejected_request'
      ? [limits.rejectedPerAddress, limits.rejectedWindowSeconds]
      : scope === 'auth_failure'
        ? [limits.authFailuresPerAddress, limits.authWindowSeconds]
        : [limits.tokenRequestsPerAddress, limits.authWindowSeconds];
  return { scope, limit, windowSeconds };
}

/** Counts one event for the address and says whether it is still within the limit. */
export async function countAndCheck(
  db: Queryable,
  rule: AddressLimit,
  address: string | undefined,
): Promise<LimitDecision> {
  if (rule.limit <= 0) return { allowed: true };
  const { count, resetsAt } = await addressWindow(db, rule.scope, address ?? 'unknown', rule.windowSeconds, true);
  recentCounts.forget(`${rule.scope}|${address ?? 'unknown'}`);
  return decide(count, rule.limit, resetsAt);
}

/**
 * The pre-check runs on every authenticated request, so an address's count is read at most
 * once a second per process. A failure counted here is seen at once (its entry is dropped);
 * one counted by another replica within a second.
 */
const recentCounts = new ShortCache<AddressWindow>(1000);

/** Whether the address is already past the limit, without counting this request. */
export async function alreadyOverLimit(
  db: Queryable,
  rule: AddressLimit,
  address: string | undefined,
): Promise<LimitDecision> {
  if (rule.limit <= 0) return { allowed: true };
  // Only "still allowed" is kept: a blocked address is read again, so it is let in when its window turns.
  const { count, resetsAt } = await recentCounts.get(
    `${rule.scope}|${address ?? 'unknown'}`,
    () => addressWindow(db, rule.scope, address ?? 'unknown', rule.windowSeconds, false),
    (w) => w.count + 1 <= rule.limit,
  );
  return decide(count + 1, rule.limit, resetsAt);
}

/**
 * The body as the inbound request log keeps it: rejected bodies are cut to `maxBytes` (at a
 * character boundary) and every body is made storable text (invalid UTF-8 shown as U+FFFD,
 * NUL as U+2400): the log shows what came, it is not the signed original.
 */
export function loggableBody(raw: Buffer, rejected: boolean, maxBytes: number): string {
  const cut = rejected && raw.length > maxBytes ? raw.subarray(0, maxBytes) : raw;
  let text = cut.toString('utf8');
  if (cut !== raw && text.endsWith('\uFFFD')) text = text.slice(0, -1);
  return text.replaceAll('\u0000', '\u2400');
}

/** Prunes rejected requests by age and count; meant for a small periodic job. */
export async function pruneRejected(
  db: Queryable,
  settings: { retentionHours: number; maxRows: number },
  logger?: Logger,
): Promise<number> {
  const deleted = await pruneRejectedRequests(
    db,
    new Date(Date.now() - settings.retentionHours * 3_600_000),
    settings.maxRows,
  );
  if (deleted > 0) logger?.info({ deleted }, 'pruned rejected inbound requests');
  return deleted;
}

/** Runs the prune every `intervalMs` (and once soon after start); returns a stop function. */
export function schedulePruneRejected(
  db: Queryable,
  settings: { retentionHours: number; maxRows: number },
  logger: Logger,
  intervalMs = 3_600_000,
): () => void {
  const run = () => {
    pruneRejected(db, settings, logger).catch((err: unknown) =>
      logger.warn({ err }, 'could not prune rejected requests'),
    );
  };
  const first = setTimeout(run, 10_000);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/**
 * Counts a rejected ingress request against its source address and says whether the address is
 * still within its limit. A counting failure lets the request through: the limit is a guard,
 * not a reason to refuse.
 */
export async function rejectedRequestDecision(
  deps: { db: Queryable; logger: Logger },
  address: string | null,
  limits: AbuseLimits,
): Promise<LimitDecision> {
  try {
    return await countAndCheck(deps.db, addressLimit(limits, 'rejected_request'), address ?? undefined);
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message }, 'could not count a rejected request');
    return { allowed: true };
  }
}
