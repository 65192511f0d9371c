import { randomUUID } from 'node:crypto';
import { withTransaction, type Db, type Queryable } from '../platform/db/pool';

/**
 * The logs retention prunes, in the order it prunes them (deliveries before events: an event goes
 * only once no delivery refers to it). Tickets, their messages and attachments are business
 * data: never pruned.
 */
export const RETENTION_LOGS = [
  'attempt_bodies',
  'deliveries',
  'events',
  'inbound_requests',
  'incoming_webhooks',
  'mail_log',
  'activity_effects',
] as const;
export type RetentionLog = (typeof RETENTION_LOGS)[number];

export type PrunedCounts = Partial<Record<RetentionLog, number>>;

/**
 * For each log: the rows past the cutoff (`$1`), oldest first, at most `$2`. Only finished work is
 * eligible: a delivery, incoming webhook or email still in progress is never pruned, whatever its age.
 */
const SELECT_VICTIMS: Record<RetentionLog, string> = {
  attempt_bodies: `SELECT id FROM delivery_attempts
    WHERE started_at < $1 AND (request IS NOT NULL OR response_body IS NOT NULL OR response_headers IS NOT NULL)
    ORDER BY started_at LIMIT $2`,
  deliveries: `SELECT id FROM deliveries WHERE finished_at < $1 ORDER BY finished_at LIMIT $2`,
  // An event goes once nothing refers to it any more (its deliveries are pruned on their own clock).
  events: `SELECT e.id FROM events e WHERE e.created_at < $1
    AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
    AND NOT EXISTS (SELECT 1 FROM batch_items b WHERE b.event_id = e.id)
    ORDER BY e.created_at LIMIT $2`,
  inbound_requests: `SELECT id FROM inbound_requests WHERE received_at < $1 ORDER BY received_at LIMIT $2`,
  incoming_webhooks: `SELECT id FROM incoming_webhooks
    WHERE received_at < $1 AND status IN ('succeeded', 'failed', 'stale')
    ORDER BY received_at LIMIT $2`,
  mail_log: `SELECT id FROM inbound_mail
    WHERE processed_at < $1
      AND (status IN ('ticket_created', 'ticket_updated', 'duplicate', 'skipped')
           OR (status = 'failed' AND next_retry_at IS NULL))
    ORDER BY processed_at LIMIT $2`,
  // What activities did, for their own re-runs: needed only while the workflow may run them again,
  // which ends hours after it started; RETENTION_ACTIVITY_EFFECTS is at least a day.
  activity_effects: `SELECT key AS id FROM activity_effects WHERE updated_at < $1 ORDER BY updated_at LIMIT $2`,
};

/** What pruning one batch of victims does (ids in `$1`). */
const PRUNE: Record<RetentionLog, string[]> = {
  attempt_bodies: [
    'UPDATE delivery_attempts SET request = NULL, response_body = NULL, response_headers = NULL WHERE id = ANY($1)',
  ],
  // Batch items of a pruned batch delivery go with it (the FK would only unlink them, making them look unsent).
  deliveries: ['DELETE FROM batch_items WHERE delivery_id = ANY($1)', 'DELETE FROM deliveries WHERE id = ANY($1)'],
  events: ['DELETE FROM events WHERE id = ANY($1)'],
  inbound_requests: ['DELETE FROM inbound_requests WHERE id = ANY($1)'],
  // Attempts and resource data cascade; inbound requests keep their row, unlinked.
  incoming_webhooks: ['DELETE FROM incoming_webhooks WHERE id = ANY($1)'],
  // Requests (with the raw message) cascade; ticket messages stay, unlinked from the log entry.
  mail_log: ['DELETE FROM inbound_mail WHERE id = ANY($1)'],
  activity_effects: ['DELETE FROM activity_effects WHERE key = ANY($1)'],
};

/**
 * Prunes one batch of a log in its own short transaction; returns the rows pruned. Victims are
 * locked with SKIP LOCKED so a row a worker is updating right now is simply left for next time.
 */
export async function pruneBatch(
  db: Db,
  log: RetentionLog,
  cutoff: Date,
  limit: number,
  runId: string | null,
): Promise<number> {
  return withTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(`${SELECT_VICTIMS[log]} FOR UPDATE SKIP LOCKED`, [cutoff, limit]);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    for (const sql of PRUNE[log]) await tx.query(sql, [ids]);
    // Counted in the same transaction: the run's tally is exactly what was pruned, retries included.
    if (runId) await addPruned(tx, runId, log, ids.length);
    return ids.length;
  });
}

/** How many rows of a log are past the cutoff (for a dry run). */
export async function countPrunable(db: Queryable, log: RetentionLog, cutoff: Date): Promise<number> {
  const victims = SELECT_VICTIMS[log].replace(/ORDER BY [^\n]*LIMIT \$2/, '');
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${victims}) v`, [cutoff]);
  return rows[0]?.n ?? 0;
}

export interface RetentionRunRow {
  id: string;
  dry_run: boolean;
  started_at: Date;
  finished_at: Date | null;
  pruned: PrunedCounts;
}

export async function beginRetentionRun(
  db: Queryable,
  dryRun: boolean,
  id: string = randomUUID(),
): Promise<RetentionRunRow> {
  const { rows } = await db.query<RetentionRunRow>(
    `INSERT INTO retention_runs (id, dry_run) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET dry_run = EXCLUDED.dry_run RETURNING *`,
    [id, dryRun],
  );
  return rows[0]!;
}

/** Adds to a run's tally for one log. */
export async function addPruned(db: Queryable, runId: string, log: RetentionLog, n: number): Promise<void> {
  await db.query(
    `UPDATE retention_runs SET pruned = jsonb_set(pruned, ARRAY[$2::text], to_jsonb(coalesce((pruned->>$2)::bigint, 0) + $3))
     WHERE id = $1`,
    [runId, log, n],
  );
}

/** Sets a log's count (a dry run's estimate). */
export async function setPruned(db: Queryable, runId: string, log: RetentionLog, n: number): Promise<void> {
  await db.query(
    'UPDATE retention_runs SET pruned = jsonb_set(pruned, ARRAY[$2::text], to_jsonb($3::bigint)) WHERE id = $1',
    [runId, log, n],
  );
}

export async function finishRetentionRun(db: Queryable, runId: string): Promise<RetentionRunRow | undefined> {
  const { rows } = await db.query<RetentionRunRow>(
    'UPDATE retention_runs SET finished_at = now() WHERE id = $1 RETURNING *',
    [runId],
  );
  return rows[0];
}
