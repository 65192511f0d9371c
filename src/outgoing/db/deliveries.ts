import { type Keyset, type WithKeyset, keysetBefore, keysetColumn } from '../../platform/db/keyset';
import type { Queryable } from '../../platform/db/pool';

export type DeliveryStatus = 'pending' | 'in_flight' | 'retrying' | 'succeeded' | 'failed' | 'held';

/** Statuses a lane still has work for (held ones wait for the webhook to be enabled). */
export const ACTIVE_STATUSES = ['pending', 'in_flight', 'retrying'] as const;

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
  /** Queue order within the webhook's lane (strict ordering sends the lowest first). */
  seq: string;
  /** Attempts in the current round; a resend or a release starts a new round (and schedule). */
  round_attempts: number;
  /** While in flight: until when the lane that claimed it owns it; after that another may re-claim it. */
  claimed_until: Date | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  /** Only on claimed rows: the trace its event was emitted in (`events.trace_parent`). */
  event_trace_parent?: string | null;
}

/** Claimed rows carry their event's trace, so each attempt joins it. */
const eventTrace = (alias: string) =>
  `(SELECT e.trace_parent FROM events e WHERE e.id = ${alias}.event_id) AS event_trace_parent`;

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
       lightweight, payload, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $9 = 'pending' THEN now() END)
     ON CONFLICT DO NOTHING RETURNING *`,
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
 * their worker died before recording the answer, so this attempt re-sends a message the
 * receiver may already have (same `webhook-id`). Returns the attempt's row id, its number
 * and its number within the current round, plus whether it re-sends after a lost answer.
 */
export async function beginAttempt(
  db: Queryable,
  deliveryId: string,
  request: AttemptRequestLog | null,
  startedAt: Date = new Date(),
): Promise<{ id: string; attempt: number; round: number; afterLostResponse: boolean }> {
  // One statement: the abandoned attempts, the counters and the new attempt row together.
  const { rows } = await db.query<{ id: string; attempt: number; round: number; lost: boolean }>(
    `WITH abandoned AS (
       UPDATE delivery_attempts SET status = 'abandoned', finished_at = now(),
         error = 'the worker stopped before this attempt finished: its answer was lost, so the message is sent again'
       WHERE delivery_id = $1 AND status = 'running' RETURNING 1),
     n AS (
       UPDATE deliveries SET attempt_count = attempt_count + 1, round_attempts = round_attempts + 1, updated_at = now()
       WHERE id = $1 RETURNING attempt_count, round_attempts)
     INSERT INTO delivery_attempts (delivery_id, attempt, status, request, started_at)
     SELECT $1, attempt_count, 'running', $2, $3 FROM n
     RETURNING id, attempt, (SELECT round_attempts FROM n) AS round, EXISTS (SELECT 1 FROM abandoned) AS lost`,
    [deliveryId, request === null ? null : JSON.stringify(request), startedAt],
  );
  const { lost, ...begun } = rows[0]!;
  return { ...begun, afterLostResponse: lost };
}

/** An attempt to open, in `beginAttempts`. */
export interface AttemptStart {
  deliveryId: string;
  request: AttemptRequestLog | null;
  startedAt: Date;
}

export interface BegunAttempt {
  id: string;
  attempt: number;
  round: number;
  afterLostResponse: boolean;
}

/**
 * `beginAttempt` for several deliveries in one statement (the lane's concurrent attempts under
 * group commit). Answers each in order; undefined for a delivery that no longer exists.
 */
export async function beginAttempts(db: Queryable, starts: AttemptStart[]): Promise<Array<BegunAttempt | undefined>> {
  const { rows } = await db.query<{ delivery_id: string; id: string; attempt: number; round: number; lost: boolean }>({
    name: 'begin-attempts',
    text: `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(n int, delivery_id uuid, request jsonb, started_at timestamptz)),
     abandoned AS (
       UPDATE delivery_attempts a SET status = 'abandoned', finished_at = now(),
         error = 'the worker stopped before this attempt finished: its answer was lost, so the message is sent again'
       FROM input i WHERE a.delivery_id = i.delivery_id AND a.status = 'running' RETURNING a.delivery_id),
     counted AS (
       UPDATE deliveries d SET attempt_count = attempt_count + 1, round_attempts = round_attempts + 1, updated_at = now()
       FROM input i WHERE d.id = i.delivery_id RETURNING d.id, d.attempt_count, d.round_attempts)
     INSERT INTO delivery_attempts (delivery_id, attempt, status, request, started_at)
     SELECT i.delivery_id, c.attempt_count, 'running', i.request, i.started_at
     FROM input i JOIN counted c ON c.id = i.delivery_id ORDER BY i.n
     RETURNING delivery_id, id, attempt,
       (SELECT round_attempts FROM counted c WHERE c.id = delivery_attempts.delivery_id) AS round,
       EXISTS (SELECT 1 FROM abandoned a WHERE a.delivery_id = delivery_attempts.delivery_id) AS lost`,
    values: [
      JSON.stringify(
        starts.map((s, n) => ({ n, delivery_id: s.deliveryId, request: s.request, started_at: s.startedAt })),
      ),
    ],
  });
  const byDelivery = new Map(rows.map((r) => [r.delivery_id, r]));
  return starts.map((s) => {
    const r = byDelivery.get(s.deliveryId);
    return r && { id: r.id, attempt: r.attempt, round: r.round, afterLostResponse: r.lost };
  });
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

const FINISH_ATTEMPT = `UPDATE delivery_attempts SET status = $2, finished_at = now(), duration_ms = $3,
  response_status = $4, response_headers = $5, response_body = $6, response_truncated = $7, error = $8 WHERE id = $1`;

const finishAttemptValues = (attemptId: string, o: AttemptOutcome) => [
  attemptId,
  o.status,
  o.durationMs,
  o.responseStatus,
  o.responseHeaders === null ? null : JSON.stringify(o.responseHeaders),
  o.responseBody,
  o.responseTruncated,
  o.error,
];

export async function finishAttempt(db: Queryable, attemptId: string, o: AttemptOutcome): Promise<void> {
  await db.query(FINISH_ATTEMPT, finishAttemptValues(attemptId, o));
}

/**
 * A successful attempt in one statement (atomic, one round trip): its log entry, the delivery
 * marked succeeded once (a lightweight one drops its body), and the webhook's failure streak
 * ended. A crash cannot leave a logged success on a delivery still queued.
 */
export async function recordDeliverySuccess(
  db: Queryable,
  a: { attemptId: string; deliveryId: string; webhookId: string; outcome: AttemptOutcome },
): Promise<void> {
  await db.query(
    `WITH attempt AS (${FINISH_ATTEMPT}),
     delivery AS (
       UPDATE deliveries SET status = 'succeeded', last_response_status = $4, last_error = NULL, ${FINAL}
       WHERE id = $9 AND status <> 'succeeded'),
     streak AS (UPDATE webhooks SET consecutive_failures = 0 WHERE id = $10 AND consecutive_failures <> 0)
     SELECT 1`,
    [...finishAttemptValues(a.attemptId, a.outcome), a.deliveryId, a.webhookId],
  );
}

/** A successful attempt to record, in `recordDeliverySuccesses`. */
export interface AttemptSuccess {
  attemptId: string;
  deliveryId: string;
  webhookId: string;
  outcome: AttemptOutcome;
}

/**
 * `recordDeliverySuccess` for several attempts in one statement (group commit): each attempt's
 * log entry, its delivery marked succeeded once, and the failure streaks of their webhooks ended.
 */
export async function recordDeliverySuccesses(db: Queryable, done: AttemptSuccess[]): Promise<Array<true>> {
  await db.query({
    name: 'record-delivery-successes',
    text: `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(attempt_id bigint, delivery_id uuid, webhook_id uuid,
         duration_ms int, response_status int, response_headers jsonb, response_body text, response_truncated boolean)),
     attempt AS (
       UPDATE delivery_attempts a SET status = 'succeeded', finished_at = now(), duration_ms = i.duration_ms,
         response_status = i.response_status, response_headers = i.response_headers, response_body = i.response_body,
         response_truncated = i.response_truncated, error = NULL
       FROM input i WHERE a.id = i.attempt_id),
     delivery AS (
       UPDATE deliveries d SET status = 'succeeded', last_response_status = i.response_status, last_error = NULL,
         ${FINAL}
       FROM input i WHERE d.id = i.delivery_id AND d.status <> 'succeeded'),
     streak AS (
       UPDATE webhooks w SET consecutive_failures = 0
       WHERE w.id IN (SELECT webhook_id FROM input) AND w.consecutive_failures <> 0)
     SELECT 1`,
    values: [
      JSON.stringify(
        done.map((d) => ({
          attempt_id: d.attemptId,
          delivery_id: d.deliveryId,
          webhook_id: d.webhookId,
          duration_ms: d.outcome.durationMs,
          response_status: d.outcome.responseStatus,
          response_headers: d.outcome.responseHeaders,
          response_body: d.outcome.responseBody,
          response_truncated: d.outcome.responseTruncated,
        })),
      ),
    ],
  });
  return done.map(() => true);
}

export async function listAttempts(db: Queryable, deliveryId: string): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    'SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
    [deliveryId],
  );
  return rows;
}

const FINAL = `finished_at = now(), next_attempt_at = NULL, claimed_until = NULL, updated_at = now(),
  payload = CASE WHEN lightweight THEN NULL ELSE payload END`;

/** Marks the final failure once. Returns the webhook id when this call changed it (so the streak counts once). */
export async function markDeliveryFailed(
  db: Queryable,
  id: string,
  r: { responseStatus: number | null; error: string },
): Promise<string | undefined> {
  const { rows } = await db.query<{ webhook_id: string }>(
    `UPDATE deliveries SET status = 'failed', last_response_status = COALESCE($3, last_response_status), last_error = $2, ${FINAL}
     WHERE id = $1 AND status IN ('pending', 'in_flight', 'retrying', 'held') RETURNING webhook_id`,
    [id, r.error, r.responseStatus],
  );
  return rows[0]?.webhook_id;
}

export async function markDeliveryRetrying(
  db: Queryable,
  id: string,
  r: { responseStatus: number | null; error: string; nextAttemptAt: Date },
): Promise<void> {
  await db.query(
    `UPDATE deliveries SET status = 'retrying', last_response_status = $2, last_error = $3, next_attempt_at = $4,
       claimed_until = NULL, updated_at = now()
     WHERE id = $1 AND status = 'in_flight'`,
    [id, r.responseStatus, r.error, r.nextAttemptAt],
  );
}

/** Puts a claimed delivery back in the queue untouched (the webhook was disabled or the lane is stopping). */
export async function unclaimDelivery(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE deliveries SET status = CASE WHEN round_attempts = 0 THEN 'pending' ELSE 'retrying' END,
       claimed_until = NULL, next_attempt_at = COALESCE(next_attempt_at, now()), updated_at = now()
     WHERE id = $1 AND status = 'in_flight'`,
    [id],
  );
}

const CLAIM = (leaseMs: number) =>
  `status = 'in_flight', claimed_until = now() + interval '${Math.ceil(leaseMs)} milliseconds', updated_at = now()`;

const DUE = `((d.status IN ('pending', 'retrying') AND d.next_attempt_at <= now())
  OR (d.status = 'in_flight' AND d.claimed_until < now()))`;

/** A claimed delivery, with when its webhook's settings last changed (the lane re-reads them when that moved). */
export type ClaimedDelivery = DeliveryRow & { webhook_updated_at: Date };

/** Claims only while the webhook is enabled, and says when its settings last changed. */
const ENABLED = `EXISTS (SELECT 1 FROM webhooks w WHERE w.id = $1 AND w.enabled)`;
const SETTINGS_CHANGED = `(SELECT w.updated_at FROM webhooks w WHERE w.id = $1) AS webhook_updated_at`;

/**
 * Claims up to `limit` due deliveries of a webhook, oldest in queue order first, for `leaseMs`,
 * if the webhook is enabled. A delivery whose claim expired (its lane's worker died) is due again.
 */
export async function claimDueDeliveries(
  db: Queryable,
  webhookId: string,
  limit: number,
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const { rows } = await db.query<ClaimedDelivery>(
    `UPDATE deliveries SET ${CLAIM(leaseMs)} WHERE id IN (
       SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.status IN ('pending', 'in_flight', 'retrying') AND ${DUE}
         AND ${ENABLED}
       ORDER BY d.seq LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING *, ${eventTrace('deliveries')}, ${SETTINGS_CHANGED}`,
    [webhookId, limit],
  );
  return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
}

/**
 * Strict ordering: claims the head of the webhook's queue if it is due and the webhook enabled. Nothing behind the
 * head is eligible until it succeeds or is given up.
 */
export async function claimQueueHead(
  db: Queryable,
  webhookId: string,
  leaseMs: number,
): Promise<ClaimedDelivery | undefined> {
  const { rows } = await db.query<ClaimedDelivery>(
    `WITH head AS (
       SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.status IN ('pending', 'in_flight', 'retrying')
       ORDER BY d.seq LIMIT 1 FOR UPDATE)
     UPDATE deliveries d SET ${CLAIM(leaseMs)} FROM head WHERE d.id = head.id AND ${DUE} AND ${ENABLED}
     RETURNING d.*, ${eventTrace('d')}, ${SETTINGS_CHANGED}`,
    [webhookId],
  );
  return rows[0];
}

/**
 * The next moment a webhook's lane has something to do: the earliest retry (the head's, with
 * strict ordering) or the earliest claim that expires. Null when nothing is queued.
 */
export async function nextDeliveryDue(db: Queryable, webhookId: string, strict: boolean): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(
    strict
      ? `SELECT CASE WHEN status = 'in_flight' THEN claimed_until ELSE next_attempt_at END AS at
         FROM deliveries WHERE webhook_id = $1 AND status IN ('pending', 'in_flight', 'retrying') ORDER BY seq LIMIT 1`
      : `SELECT min(CASE WHEN status = 'in_flight' THEN claimed_until ELSE next_attempt_at END) AS at
         FROM deliveries WHERE webhook_id = $1 AND status IN ('pending', 'in_flight', 'retrying')`,
    [webhookId],
  );
  return rows[0]?.at ?? null;
}

/** Holds a disabled webhook's queued deliveries (not those in flight); returns how many. */
export async function holdQueuedDeliveries(db: Queryable, webhookId: string): Promise<number> {
  const res = await db.query(
    `UPDATE deliveries SET status = 'held', next_attempt_at = NULL, updated_at = now()
     WHERE webhook_id = $1 AND status IN ('pending', 'retrying')`,
    [webhookId],
  );
  return res.rowCount ?? 0;
}

/** Queues a webhook's held deliveries again, in their original order, each with a fresh schedule. */
export async function releaseHeldDeliveries(db: Queryable, webhookId: string): Promise<number> {
  const res = await db.query(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = now(), round_attempts = 0, updated_at = now()
     WHERE webhook_id = $1 AND status = 'held'`,
    [webhookId],
  );
  return res.rowCount ?? 0;
}

/**
 * Queues a finished delivery again for a resend: same id (and so `webhook-id`), a fresh
 * schedule, and the back of the queue. Undefined when it is not finished or kept no payload.
 */
export async function reopenForResend(db: Queryable, id: string): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE deliveries SET status = 'pending', finished_at = NULL, next_attempt_at = now(), round_attempts = 0,
       seq = nextval('deliveries_seq'), resend_count = resend_count + 1, updated_at = now()
     WHERE id = $1 AND status IN ('succeeded', 'failed') AND payload IS NOT NULL RETURNING *`,
    [id],
  );
  return rows[0];
}

/** A lane's queue as PostgreSQL sees it. */
export interface LaneCounts {
  queued: number;
  inFlight: number;
  retrying: number;
  held: number;
  batchItemsWaiting: number;
  nextRetryAt: Date | null;
}

export async function laneCounts(db: Queryable, webhookId: string): Promise<LaneCounts> {
  const { rows } = await db.query<{
    queued: string;
    in_flight: string;
    retrying: string;
    held: string;
    waiting: string;
    next_retry_at: Date | null;
  }>(
    `SELECT count(*) FILTER (WHERE status IN ('pending', 'retrying')) AS queued,
       count(*) FILTER (WHERE status = 'in_flight') AS in_flight,
       count(*) FILTER (WHERE status = 'retrying') AS retrying,
       count(*) FILTER (WHERE status = 'held') AS held,
       min(next_attempt_at) FILTER (WHERE status = 'retrying') AS next_retry_at,
       (SELECT count(*) FROM batch_items WHERE webhook_id = $1 AND delivery_id IS NULL) AS waiting
     FROM deliveries WHERE webhook_id = $1 AND status IN ('pending', 'in_flight', 'retrying', 'held')`,
    [webhookId],
  );
  const r = rows[0]!;
  return {
    queued: Number(r.queued),
    inFlight: Number(r.in_flight),
    retrying: Number(r.retrying),
    held: Number(r.held),
    batchItemsWaiting: Number(r.waiting),
    nextRetryAt: r.next_retry_at,
  };
}

/** Webhooks whose lanes have queued work or unbatched items (woken at start-up, in case a wake was lost). */
export async function webhooksWithQueuedWork(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ webhook_id: string }>(
    `SELECT DISTINCT webhook_id FROM deliveries WHERE status IN ('pending', 'in_flight', 'retrying')
     UNION SELECT DISTINCT webhook_id FROM batch_items WHERE delivery_id IS NULL`,
  );
  return rows.map((r) => r.webhook_id);
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
  b: { payload: string; itemCount: number; eventType: string | null },
): Promise<void> {
  await db.query('UPDATE deliveries SET payload = $2, item_count = $3, event_type = $4 WHERE id = $1', [
    id,
    b.payload,
    b.itemCount,
    b.eventType,
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
