import { randomUUID } from 'node:crypto';
import { withTransaction, type Db } from '../platform/db/pool';
import type { RateLimits } from './provider-types';
import { ProviderRateLimitedError } from './provider-types';

/**
 * Per-tenant API budgets shared by every worker, kept in PostgreSQL: rolling windows of the
 * calls made (per second / minute / day), leases for the concurrency limit, and a "blocked
 * until" time set from a provider's 429 `Retry-After`. One row lock per tenant serialises
 * the check-and-take, so workers on different machines never overspend together.
 */

export interface RateRule {
  name: string;
  limit: number;
  windowMs: number;
}

export interface BudgetSpec {
  key: string;
  rules: RateRule[];
  concurrent: number;
  /** A lease not released by then (its worker died) frees its slot. */
  leaseMs: number;
  /**
   * Added to each window: our stamp is taken before the request leaves, the provider's when it
   * arrives, so our window must close a little later than theirs.
   */
  marginMs: number;
}

export type Acquired = { ok: true; leaseId: string } | { ok: false; waitMs: number; reason: string };

// How long to wait for a concurrency slot: leases are released as soon as a call ends.
const CONCURRENCY_POLL_MS = 100;

/** The windows a provider's limits translate into. */
export function rulesFor(limits: RateLimits): RateRule[] {
  const rules: RateRule[] = [];
  if (limits.perSecond) rules.push({ name: 'second', limit: limits.perSecond, windowMs: 1000 });
  rules.push({ name: 'minute', limit: limits.perMinute, windowMs: 60_000 });
  if (limits.perDay) rules.push({ name: 'day', limit: limits.perDay, windowMs: 86_400_000 });
  return rules;
}

/** Takes one call from the budget now, or says how long until one is free. */
export async function tryAcquire(db: Db, spec: BudgetSpec): Promise<Acquired> {
  return withTransaction(db, async (c) => {
    await c.query('INSERT INTO provider_rate_budgets (key) VALUES ($1) ON CONFLICT DO NOTHING', [spec.key]);
    const { rows } = await c.query<{ blocked_ms: string | null; reason: string | null; now: Date }>(
      `SELECT (extract(epoch FROM blocked_until - clock_timestamp()) * 1000)::bigint AS blocked_ms,
              blocked_reason AS reason, clock_timestamp() AS now
       FROM provider_rate_budgets WHERE key = $1 FOR UPDATE`,
      [spec.key],
    );
    const budget = rows[0]!;
    const blockedMs = Number(budget.blocked_ms ?? 0);
    if (blockedMs > 0) return { ok: false, waitMs: blockedMs, reason: budget.reason ?? 'blocked' };

    await c.query('DELETE FROM provider_rate_leases WHERE key = $1 AND expires_at < $2', [spec.key, budget.now]);
    const leases = await c.query<{ n: string }>('SELECT count(*) AS n FROM provider_rate_leases WHERE key = $1', [
      spec.key,
    ]);
    if (Number(leases.rows[0]!.n) >= spec.concurrent) {
      return { ok: false, waitMs: CONCURRENCY_POLL_MS, reason: 'concurrent' };
    }

    for (const rule of spec.rules) {
      const windowMs = rule.windowMs + Math.min(spec.marginMs, rule.windowMs / 10);
      const since = new Date(budget.now.getTime() - windowMs);
      const counted = await c.query<{ n: string }>(
        'SELECT count(*) AS n FROM provider_rate_calls WHERE key = $1 AND at > $2',
        [spec.key, since],
      );
      const used = Number(counted.rows[0]!.n);
      if (used < rule.limit) continue;
      // The call whose leaving frees a slot is `used - limit` places after the oldest in the window.
      const freeing = await c.query<{ at: Date }>(
        'SELECT at FROM provider_rate_calls WHERE key = $1 AND at > $2 ORDER BY at OFFSET $3 LIMIT 1',
        [spec.key, since, used - rule.limit],
      );
      const at = freeing.rows[0]?.at.getTime() ?? budget.now.getTime();
      return { ok: false, waitMs: Math.max(1, at + windowMs - budget.now.getTime()), reason: rule.name };
    }

    const leaseId = randomUUID();
    await c.query('INSERT INTO provider_rate_calls (key, at) VALUES ($1, $2)', [spec.key, budget.now]);
    await c.query('INSERT INTO provider_rate_leases (id, key, expires_at) VALUES ($1, $2, $3)', [
      leaseId,
      spec.key,
      new Date(budget.now.getTime() + spec.leaseMs),
    ]);
    const longest = Math.max(...spec.rules.map((r) => r.windowMs)) + spec.marginMs;
    await c.query('DELETE FROM provider_rate_calls WHERE key = $1 AND at < $2', [
      spec.key,
      new Date(budget.now.getTime() - longest),
    ]);
    return { ok: true, leaseId };
  });
}

/** Returns a concurrency slot. */
export async function releaseLease(db: Db, leaseId: string): Promise<void> {
  await db.query('DELETE FROM provider_rate_leases WHERE id = $1', [leaseId]);
}

/** Records a provider's 429: nobody calls this tenant again before `Retry-After` has passed. */
export async function blockBudget(db: Db, key: string, waitMs: number, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO provider_rate_budgets (key, blocked_until, blocked_reason, updated_at)
     VALUES ($1, clock_timestamp() + make_interval(secs => $2::double precision / 1000), $3, now())
     ON CONFLICT (key) DO UPDATE SET
       blocked_until = GREATEST(COALESCE(provider_rate_budgets.blocked_until, EXCLUDED.blocked_until), EXCLUDED.blocked_until),
       blocked_reason = EXCLUDED.blocked_reason, updated_at = now()`,
    [key, waitMs, reason],
  );
}

/**
 * Waits for a call slot when the wait is short; a longer wait becomes a ProviderRateLimitedError
 * so the activity retries later (`nextRetryDelay`) instead of holding a worker slot.
 */
export async function acquireBudget(db: Db, spec: BudgetSpec, maxInlineWaitMs: number): Promise<string> {
  const deadline = Date.now() + maxInlineWaitMs;
  for (;;) {
    const got = await tryAcquire(db, spec);
    if (got.ok) return got.leaseId;
    if (Date.now() + got.waitMs > deadline) throw new ProviderRateLimitedError(got.waitMs, got.reason, false);
    await new Promise((r) => setTimeout(r, got.waitMs));
  }
}

/**
 * Aligns a window with what the provider says is left (Xero's `X-MinLimit-Remaining`,
 * `X-DayLimit-Remaining`): calls we did not make ourselves — another app instance, a script,
 * a restart that lost nothing but still disagrees — are recorded as made now, so the shared
 * budget never believes it has more than the provider will serve.
 */
export async function absorbRemaining(db: Db, spec: BudgetSpec, ruleName: string, remaining: number): Promise<number> {
  const rule = spec.rules.find((r) => r.name === ruleName);
  if (!rule || !Number.isFinite(remaining) || remaining < 0) return 0;
  return withTransaction(db, async (c) => {
    await c.query('INSERT INTO provider_rate_budgets (key) VALUES ($1) ON CONFLICT DO NOTHING', [spec.key]);
    // The same row lock as tryAcquire, so takers and this correction do not interleave.
    await c.query('SELECT 1 FROM provider_rate_budgets WHERE key = $1 FOR UPDATE', [spec.key]);
    const { rows } = await c.query<{ n: string; now: Date }>(
      `SELECT count(*) AS n, clock_timestamp() AS now FROM provider_rate_calls
       WHERE key = $1 AND at > clock_timestamp() - make_interval(secs => $2::double precision / 1000)`,
      [spec.key, rule.windowMs],
    );
    const used = Number(rows[0]!.n);
    const missing = Math.min(rule.limit, rule.limit - remaining) - used;
    if (missing <= 0) return 0;
    await c.query('INSERT INTO provider_rate_calls (key, at) SELECT $1, $2 FROM generate_series(1, $3)', [
      spec.key,
      rows[0]!.now,
      missing,
    ]);
    return missing;
  });
}
