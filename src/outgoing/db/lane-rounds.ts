import type { Queryable } from '../../platform/db/pool';

/**
 * "This webhook's lane is in a round, polling its queue": a round marks it while it runs and
 * clears it before its last look at the queue. A wake for a lane that is polling needs no
 * signal — the round, or that last look, sees every delivery committed before the wake was
 * read — so a steady stream costs no workflow task per event. The mark expires on its own
 * when a worker dies mid-round.
 */
export async function markLanePolling(db: Queryable, webhookId: string, forSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO lane_rounds (webhook_id, polling_until) VALUES ($1, now() + make_interval(secs => $2))
     ON CONFLICT (webhook_id) DO UPDATE SET polling_until = EXCLUDED.polling_until`,
    [webhookId, forSeconds],
  );
}

export async function clearLanePolling(db: Queryable, webhookId: string): Promise<void> {
  await db.query('DELETE FROM lane_rounds WHERE webhook_id = $1', [webhookId]);
}

export async function isLanePolling(db: Queryable, webhookId: string): Promise<boolean> {
  const { rows } = await db.query<{ polling: boolean }>(
    'SELECT polling_until > now() AS polling FROM lane_rounds WHERE webhook_id = $1',
    [webhookId],
  );
  return rows[0]?.polling === true;
}
