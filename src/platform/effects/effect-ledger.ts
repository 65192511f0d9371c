import type { Queryable } from '../db/pool';

/** The stored result of a finished activity execution or step, if any. */
export async function getEffect<T>(db: Queryable, key: string): Promise<{ result: T } | undefined> {
  const { rows } = await db.query<{ result: T }>(
    "SELECT result FROM activity_effects WHERE key = $1 AND state = 'completed'",
    [key],
  );
  return rows[0];
}

/** Records a result once; a second writer for the same key leaves the first in place. */
export async function putEffect(db: Queryable, key: string, result: unknown): Promise<void> {
  await db.query('INSERT INTO activity_effects (key, result) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
    key,
    JSON.stringify(result ?? null),
  ]);
}

/** An outbound call's ledger row (migration 41). */
export interface OutboundEffectRow {
  key: string;
  state: 'started' | 'completed';
  result: unknown;
  attempt: number | null;
  delivered: boolean | null;
  sends: number;
  resends_after_unknown: number;
}

/** The ledger row of an outbound call, locked until the caller's transaction ends. */
export async function lockOutboundEffect(tx: Queryable, key: string): Promise<OutboundEffectRow | undefined> {
  const { rows } = await tx.query<OutboundEffectRow>('SELECT * FROM activity_effects WHERE key = $1 FOR UPDATE', [key]);
  return rows[0];
}

/**
 * Records, before the call, that business attempt `attempt` is sending it; `resentAfterUnknown`
 * when an earlier send's answer was never recorded (counted, so repeats can be told from re-sends).
 */
export async function startOutboundEffect(
  tx: Queryable,
  key: string,
  attempt: number,
  resentAfterUnknown: boolean,
): Promise<void> {
  await tx.query(
    `INSERT INTO activity_effects (key, result, state, attempt, sends, resends_after_unknown)
     VALUES ($1, NULL, 'started', $2, 1, $3)
     ON CONFLICT (key) DO UPDATE SET state = 'started', attempt = $2, delivered = NULL, result = NULL,
       sends = activity_effects.sends + 1,
       resends_after_unknown = activity_effects.resends_after_unknown + $3,
       updated_at = now()`,
    [key, attempt, resentAfterUnknown ? 1 : 0],
  );
}

/** Records the receiver's answer: the call is no longer of unknown outcome. */
export async function completeOutboundEffect(
  db: Queryable,
  key: string,
  result: unknown,
  delivered: boolean,
): Promise<void> {
  await db.query(
    `UPDATE activity_effects SET state = 'completed', result = $2, delivered = $3, updated_at = now() WHERE key = $1`,
    [key, JSON.stringify(result ?? null), delivered],
  );
}
