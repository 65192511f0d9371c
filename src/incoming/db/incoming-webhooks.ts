import { type Keyset, type WithKeyset, keysetBefore, keysetColumn } from '../../platform/db/keyset';
import type { Queryable } from '../../platform/db/pool';

export type IncomingWebhookStatus = 'queued' | 'processing' | 'succeeded' | 'failed' | 'stale';

export interface IncomingWebhookRow {
  id: string;
  integration_id: string;
  provider: string;
  delivery_key: string;
  event_type: string | null;
  entity_type: string | null;
  entity_id: string | null;
  processing_method: string;
  status: IncomingWebhookStatus;
  attempts_allowed: number;
  attempts_made: number;
  workflow_id: string;
  payload: string;
  result: unknown;
  error: string | null;
  received_at: Date;
  processed_at: Date | null;
  updated_at: Date;
}

export interface IncomingWebhookAttemptRow {
  id: string;
  webhook_id: string;
  attempt: number;
  /** Temporal's try of this attempt: 2+ is a re-run after a lost worker or a lost completion. */
  execution: number;
  rerun: boolean;
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  log: Array<{ at: string; message: string }>;
}

export type NewIncomingWebhook = Pick<
  IncomingWebhookRow,
  | 'id'
  | 'integration_id'
  | 'provider'
  | 'delivery_key'
  | 'event_type'
  | 'entity_type'
  | 'entity_id'
  | 'processing_method'
  | 'attempts_allowed'
  | 'workflow_id'
  | 'payload'
>;

/**
 * The insert of a new webhook that does nothing when its delivery was seen before ($1–$11 are
 * `newIncomingWebhookValues`); shared by the plain insert and ingress's one-statement write.
 */
export const INSERT_NEW_INCOMING_WEBHOOK = `INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key,
    event_type, entity_type, entity_id, processing_method, status, attempts_allowed, workflow_id, payload)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11)
  ON CONFLICT (integration_id, delivery_key) DO NOTHING`;

export const newIncomingWebhookValues = (w: NewIncomingWebhook): unknown[] => [
  w.id,
  w.integration_id,
  w.provider,
  w.delivery_key,
  w.event_type,
  w.entity_type,
  w.entity_id,
  w.processing_method,
  w.attempts_allowed,
  w.workflow_id,
  w.payload,
];

/** Inserts the webhook unless this delivery was seen before; returns the stored row and whether it is new. */
export async function insertIncomingWebhook(
  db: Queryable,
  w: NewIncomingWebhook,
): Promise<{ row: IncomingWebhookRow; created: boolean }> {
  const inserted = await db.query<IncomingWebhookRow>(
    `${INSERT_NEW_INCOMING_WEBHOOK} RETURNING *`,
    newIncomingWebhookValues(w),
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const { rows } = await db.query<IncomingWebhookRow>(
    'SELECT * FROM incoming_webhooks WHERE integration_id = $1 AND delivery_key = $2',
    [w.integration_id, w.delivery_key],
  );
  return { row: rows[0]!, created: false };
}

export async function getIncomingWebhook(db: Queryable, id: string): Promise<IncomingWebhookRow | undefined> {
  const { rows } = await db.query<IncomingWebhookRow>('SELECT * FROM incoming_webhooks WHERE id = $1', [id]);
  return rows[0];
}

export interface IncomingWebhookFilter {
  integrationId?: string | undefined;
  status?: string | undefined;
  provider?: string | undefined;
  entityId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Keyset cursor: rows strictly older than this (received_at, id). */
  before?: Keyset | undefined;
  limit: number;
}

export async function listIncomingWebhooks(
  db: Queryable,
  f: IncomingWebhookFilter,
): Promise<WithKeyset<IncomingWebhookRow>[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    args.push(value);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (f.integrationId) add('integration_id = ?', f.integrationId);
  if (f.status) add('status = ?', f.status);
  if (f.provider) add('provider = ?', f.provider);
  if (f.entityId) add('entity_id = ?', f.entityId);
  if (f.since) add('received_at >= ?', f.since);
  if (f.until) add('received_at < ?', f.until);
  if (f.before) where.push(keysetBefore('received_at', 'id', 'uuid', f.before, (v) => `$${args.push(v)}`));
  args.push(f.limit);
  const { rows } = await db.query<WithKeyset<IncomingWebhookRow>>(
    `SELECT *, ${keysetColumn('received_at')} FROM incoming_webhooks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY received_at DESC, id DESC LIMIT $${args.length}`,
    args,
  );
  return rows;
}

export async function setIncomingWebhookStatus(
  db: Queryable,
  id: string,
  patch: { status: IncomingWebhookStatus; result?: unknown; error?: string | null; processed?: boolean },
): Promise<void> {
  await db.query(
    `UPDATE incoming_webhooks SET status = $2,
       result = COALESCE($3, result), error = $4,
       processed_at = CASE WHEN $5 THEN now() ELSE processed_at END, updated_at = now()
     WHERE id = $1`,
    [
      id,
      patch.status,
      patch.result === undefined ? null : JSON.stringify(patch.result),
      patch.error ?? null,
      !!patch.processed,
    ],
  );
}

/**
 * Opens execution `execution` of attempt `attempt` (its own row: a re-run never overwrites the
 * first run's record) and marks earlier executions still "running" as abandoned: their worker
 * died before finishing them.
 */
export async function beginAttempt(db: Queryable, webhookId: string, attempt: number, execution = 1): Promise<void> {
  await db.query(
    `UPDATE incoming_webhook_attempts SET status = 'abandoned', finished_at = now(),
       error = 'the worker stopped before this execution finished'
     WHERE webhook_id = $1 AND (attempt, execution) < ($2, $3) AND status = 'running'`,
    [webhookId, attempt, execution],
  );
  await db.query(
    `INSERT INTO incoming_webhook_attempts (webhook_id, attempt, execution, rerun, status) VALUES ($1, $2, $3, $3 > 1, 'running')
     ON CONFLICT (webhook_id, attempt, execution) DO UPDATE SET status = 'running', started_at = now(), finished_at = NULL, error = NULL, log = '[]'`,
    [webhookId, attempt, execution],
  );
  await db.query(
    `UPDATE incoming_webhooks SET status = 'processing', attempts_made = GREATEST(attempts_made, $2), updated_at = now() WHERE id = $1`,
    [webhookId, attempt],
  );
}

export async function finishAttempt(
  db: Queryable,
  webhookId: string,
  attempt: number,
  outcome: { status: 'succeeded' | 'failed'; error?: string; log: Array<{ at: string; message: string }> },
  execution = 1,
): Promise<void> {
  await db.query(
    `UPDATE incoming_webhook_attempts SET status = $3, finished_at = now(), error = $4, log = $5
     WHERE webhook_id = $1 AND attempt = $2 AND execution = $6`,
    [webhookId, attempt, outcome.status, outcome.error ?? null, JSON.stringify(outcome.log), execution],
  );
}

/** Saves an execution's log so far (before an outbound call), so a worker dying during it leaves the trace. */
export async function saveAttemptLog(
  db: Queryable,
  webhookId: string,
  attempt: number,
  execution: number,
  log: Array<{ at: string; message: string }>,
): Promise<void> {
  await db.query(
    'UPDATE incoming_webhook_attempts SET log = $4 WHERE webhook_id = $1 AND attempt = $2 AND execution = $3',
    [webhookId, attempt, execution, JSON.stringify(log)],
  );
}

/**
 * A re-run that found its attempt already finished (the completion was lost): recorded as its
 * own execution, closed at once, with the earlier "running" executions left as they are.
 */
export async function recordRerun(
  db: Queryable,
  webhookId: string,
  attempt: number,
  execution: number,
  outcome: { status: 'succeeded' | 'failed'; error?: string | null; log: Array<{ at: string; message: string }> },
): Promise<void> {
  await db.query(
    `INSERT INTO incoming_webhook_attempts (webhook_id, attempt, execution, rerun, status, finished_at, error, log)
     VALUES ($1, $2, $3, true, $4, now(), $5, $6)
     ON CONFLICT (webhook_id, attempt, execution) DO UPDATE SET status = $4, finished_at = now(), error = $5, log = $6`,
    [webhookId, attempt, execution, outcome.status, outcome.error ?? null, JSON.stringify(outcome.log)],
  );
}

export async function listAttempts(db: Queryable, webhookId: string): Promise<IncomingWebhookAttemptRow[]> {
  const { rows } = await db.query<IncomingWebhookAttemptRow>(
    'SELECT * FROM incoming_webhook_attempts WHERE webhook_id = $1 ORDER BY attempt, execution',
    [webhookId],
  );
  return rows;
}

/** Webhook counts by status, optionally for one integration (the log's header and the benchmarks). */
export async function countIncomingWebhooksByStatus(
  db: Queryable,
  integrationId?: string,
): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM incoming_webhooks ${integrationId ? 'WHERE integration_id = $1' : ''} GROUP BY status`,
    integrationId ? [integrationId] : [],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
