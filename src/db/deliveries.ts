import { type Keyset, type WithKeyset, keysetBefore, keysetColumn } from './keyset';
import type { Queryable } from './pool';

export type DeliveryStatus = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'held';

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string | null;
  group_key: string | null;
  event_type: string | null;
  object_id: string | null;
  item_count: number;
  workflow_id: string;
  status: DeliveryStatus;
  lightweight: boolean;
  payload: string | null;
  attempt_count: number;
  resend_count: number;
  last_response_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface AttemptRequestLog {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  bodyTruncated: boolean;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  attempt: number;
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  request: AttemptRequestLog | null;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  response_truncated: boolean | null;
  error: string | null;
}

export type NewDelivery = Pick<
  DeliveryRow,
  | 'id'
  | 'webhook_id'
  | 'event_id'
  | 'group_key'
  | 'event_type'
  | 'object_id'
  | 'item_count'
  | 'workflow_id'
  | 'status'
  | 'lightweight'
  | 'payload'
>;

/** Inserts a delivery unless one exists for the same (webhook, event) or id; returns the stored row. */
export async function insertDelivery(db: Queryable, d: NewDelivery): Promise<{ row: DeliveryRow; created: boolean }> {
  const inserted = await db.query<DeliveryRow>(
    `INSERT INTO deliveries (id, webhook_id, event_id, group_key, event_type, object_id, item_count, workflow_id, status,
       lightweight, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING *`,
    [
      d.id,
      d.webhook_id,
      d.event_id,
      d.group_key,
      d.event_type,
      d.object_id,
      d.item_count,
      d.workflow_id,
      d.status,
      d.lightweight,
      d.payload,
    ],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const { rows } = await db.query<DeliveryRow>(
    'SELECT * FROM deliveries WHERE id = $1 OR (webhook_id = $2 AND event_id = $3)',
    [d.id, d.webhook_id, d.event_id],
  );
  return { row: rows[0]!, created: false };
}

export async function getDelivery(db: Queryable, id: string): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>('SELECT * FROM deliveries WHERE id = $1', [id]);
  return rows[0];
}

export interface DeliveryFilter {
  webhookId: string;
  status?: DeliveryStatus | undefined;
  eventType?: string | undefined;
  eventId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  before?: Keyset | undefined;
  limit: number;
}

export async function listDeliveries(db: Queryable, f: DeliveryFilter): Promise<WithKeyset<DeliveryRow>[]> {
  const args: unknown[] = [f.webhookId];
  const where = ['d.webhook_id = $1'];
  const p = (v: unknown) => `$${args.push(v)}`;
  if (f.status) where.push(`d.status = ${p(f.status)}`);
  // A batch matches when any event it carries does.
  if (f.eventType) {
    const t = p(f.eventType);
    where.push(
      `(d.event_type = ${t} OR EXISTS (SELECT 1 FROM batch_items b WHERE b.delivery_id = d.id AND b.event_type = ${t}))`,
    );
  }
  if (f.eventId) {
    const e = p(f.eventId);
    where.push(
      `(d.event_id = ${e} OR EXISTS (SELECT 1 FROM batch_items b WHERE b.delivery_id = d.id AND b.event_id = ${e}))`,
    );
  }
  if (f.since) where.push(`d.created_at >= ${p(f.since)}`);
  if (f.until) where.push(`d.created_at < ${p(f.until)}`);
  if (f.before) where.push(keysetBefore('d.created_at', 'd.id', 'uuid', f.before, p));
  const { rows } = await db.query<WithKeyset<DeliveryRow>>(
    `SELECT d.*, ${keysetColumn('d.created_at')} FROM deliveries d WHERE ${where.join(' AND ')} ORDER BY d.created_at DESC, d.id DESC LIMIT ${p(f.limit)}`,
    args,
  );
  return rows;
}

/**
 * Opens the next attempt: numbers it, and marks attempts still "running" as abandoned —
 * their worker died before finishing them. Returns the attempt's row id and number.
 */
export async function beginAttempt(
  db: Queryable,
  deliveryId: string,
  request: AttemptRequestLog | null,
): Promise<{ id: string; attempt: number }> {
  await db.query(
    `UPDATE delivery_attempts SET status = 'abandoned', finished_at = now(),
       error = 'the worker stopped before this attempt finished'
     WHERE delivery_id = $1 AND status = 'running'`,
    [deliveryId],
  );
  const { rows } = await db.query<{ id: string; attempt: number }>(
    `WITH n AS (UPDATE deliveries SET attempt_count = attempt_count + 1, updated_at = now(),
       status = CASE WHEN status = 'held' THEN 'pending' ELSE status END
     WHERE id = $1 RETURNING attempt_count)
     INSERT INTO delivery_attempts (delivery_id, attempt, status, request)
     SELECT $1, attempt_count, 'running', $2 FROM n RETURNING id, attempt`,
    [deliveryId, request === null ? null : JSON.stringify(request)],
  );
  return rows[0]!;
}

export interface AttemptOutcome {
  status: 'succeeded' | 'failed';
  durationMs: number;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  responseTruncated: boolean | null;
  error: string | null;
}

export async function finishAttempt(db: Queryable, attemptId: string, o: AttemptOutcome): Promise<void> {
  await db.query(
    `UPDATE delivery_attempts SET status = $2, finished_at = now(), duration_ms = $3, response_status = $4,
       response_headers = $5, response_body = $6, response_truncated = $7, error = $8
     WHERE id = $1`,
    [
      attemptId,
      o.status,
      o.durationMs,
      o.responseStatus,
      o.responseHeaders === null ? null : JSON.stringify(o.responseHeaders),
      o.responseBody,
      o.responseTruncated,
      o.error,
    ],
  );
}

export async function listAttempts(db: Queryable, deliveryId: string): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    'SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
    [deliveryId],
  );
  return rows;
}

const FINAL = `finished_at = now(), next_attempt_at = NULL, updated_at = now(),
  payload = CASE WHEN lightweight THEN NULL ELSE payload END`;

/** Marks success once; a lightweight delivery drops its body here. Returns whether this call changed it. */
export async function markDeliverySucceeded(db: Queryable, id: string, responseStatus: number): Promise<boolean> {
  const res = await db.query(
    `UPDATE deliveries SET status = 'succeeded', last_response_status = $2, last_error = NULL, ${FINAL}
     WHERE id = $1 AND status <> 'succeeded'`,
    [id, responseStatus],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Marks the final failure once. Returns the webhook id when this call changed it (so the streak counts once). */
export async function markDeliveryFailed(db: Queryable, id: string, error: string): Promise<string | undefined> {
  const { rows } = await db.query<{ webhook_id: string }>(
    `UPDATE deliveries SET status = 'failed', last_error = $2, ${FINAL}
     WHERE id = $1 AND status IN ('pending', 'retrying', 'held') RETURNING webhook_id`,
    [id, error],
  );
  return rows[0]?.webhook_id;
}

export async function markDeliveryRetrying(
  db: Queryable,
  id: string,
  r: { responseStatus: number | null; error: string; nextAttemptAt: Date },
): Promise<void> {
  await db.query(
    `UPDATE deliveries SET status = 'retrying', last_response_status = $2, last_error = $3, next_attempt_at = $4, updated_at = now()
     WHERE id = $1 AND status IN ('pending', 'retrying', 'held')`,
    [id, r.responseStatus, r.error, r.nextAttemptAt],
  );
}

export async function holdDelivery(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE deliveries SET status = 'held', next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status IN ('pending', 'retrying')`,
    [id],
  );
}

/** Sets a held delivery (being released) or a finished one (being re-sent) back to pending. */
export async function reopenDelivery(db: Queryable, id: string, resend: boolean): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE deliveries SET status = 'pending', finished_at = NULL, updated_at = now(),
       resend_count = resend_count + CASE WHEN $2 THEN 1 ELSE 0 END
     WHERE id = $1 AND status IN ('held', 'succeeded', 'failed') AND payload IS NOT NULL RETURNING *`,
    [id, resend],
  );
  return rows[0];
}

export async function heldDeliveries(db: Queryable, webhookId: string): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    "SELECT * FROM deliveries WHERE webhook_id = $1 AND status = 'held' ORDER BY created_at, id",
    [webhookId],
  );
  return rows;
}

export async function failedDeliveriesSince(
  db: Queryable,
  webhookId: string,
  since: Date,
  limit: number,
): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT * FROM deliveries WHERE webhook_id = $1 AND status = 'failed' AND finished_at >= $2
     ORDER BY finished_at, id LIMIT $3`,
    [webhookId, since, limit],
  );
  return rows;
}

/** Completes a batch delivery's row once its items are claimed. */
export async function fillBatchDelivery(
  db: Queryable,
  id: string,
  b: { payload: string; itemCount: number; eventType: string | null; status: 'pending' | 'held' },
): Promise<void> {
  await db.query('UPDATE deliveries SET payload = $2, item_count = $3, event_type = $4, status = $5 WHERE id = $1', [
    id,
    b.payload,
    b.itemCount,
    b.eventType,
    b.status,
  ]);
}

/** Every delivery an event went out in, alone or inside a batch. */
export async function deliveriesForEvent(db: Queryable, eventId: string): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.* FROM deliveries d WHERE d.event_id = $1
     UNION ALL
     SELECT d.* FROM deliveries d JOIN batch_items b ON b.delivery_id = d.id WHERE b.event_id = $1
     ORDER BY created_at, id`,
    [eventId],
  );
  return rows;
}
