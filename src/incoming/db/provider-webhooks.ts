import type { IncomingWebhookRow, IncomingWebhookStatus } from './incoming-webhooks';
import type { Queryable } from '../../platform/db/pool';

/** An incoming webhook with the provider columns migration 3 added. */
export interface ProviderWebhookRow extends IncomingWebhookRow {
  tenant_id: string | null;
  event_at: Date | null;
  manual_retries: number;
}

export interface NewProviderWebhook {
  id: string;
  deliveryKey: string;
  eventType: string;
  entityType: string;
  entityId: string;
  tenantId: string;
  eventAt: Date;
  workflowId: string;
  payload: string;
}

/** What every webhook of one provider request shares. */
export interface ProviderWebhookCommon {
  integrationId: string;
  provider: string;
  processingMethod: string;
  attemptsAllowed: number;
}

/**
 * The insert of a request's new provider webhooks, parameters $1-$13 as `newProviderWebhookValues`
 * gives them; `where` may hold back every row (a one-statement intake's check). Shared by the
 * plain insert and ingress's one-statement write. Rows go in key order, as in the batched intake,
 * so concurrent inserts that share keys wait for each other instead of deadlocking.
 */
export const insertNewProviderWebhooks = (where = '') => `INSERT INTO incoming_webhooks (id, integration_id, provider,
    delivery_key, event_type, entity_type, entity_id, processing_method, status, attempts_allowed, workflow_id, payload,
    tenant_id, event_at)
  SELECT u.id, $1, $2, u.key, u.event_type, u.entity_type, u.entity_id, $3, 'queued', $4, u.workflow_id, u.payload,
    u.tenant_id, u.event_at
  FROM unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
    $13::timestamptz[]) AS u(id, key, event_type, entity_type, entity_id, workflow_id, payload, tenant_id, event_at)
  ${where}
  ORDER BY u.key
  ON CONFLICT (integration_id, delivery_key) DO NOTHING`;

export const newProviderWebhookValues = (common: ProviderWebhookCommon, items: NewProviderWebhook[]): unknown[] => [
  common.integrationId,
  common.provider,
  common.processingMethod,
  common.attemptsAllowed,
  items.map((i) => i.id),
  items.map((i) => i.deliveryKey),
  items.map((i) => i.eventType),
  items.map((i) => i.entityType),
  items.map((i) => i.entityId),
  items.map((i) => i.workflowId),
  items.map((i) => i.payload),
  items.map((i) => i.tenantId),
  items.map((i) => i.eventAt),
];

/**
 * Inserts many webhooks of one integration in one statement; rows whose delivery key was seen
 * before are left alone. Returns every row (new or old) with whether it is new.
 */
export async function insertProviderWebhooks(
  db: Queryable,
  common: ProviderWebhookCommon,
  items: NewProviderWebhook[],
): Promise<Array<{ row: ProviderWebhookRow; created: boolean }>> {
  if (items.length === 0) return [];
  const inserted = await db.query<{ id: string }>(
    `${insertNewProviderWebhooks()} RETURNING id`,
    newProviderWebhookValues(common, items),
  );
  const created = new Set(inserted.rows.map((r) => r.id));
  const { rows } = await db.query<ProviderWebhookRow>(
    'SELECT * FROM incoming_webhooks WHERE integration_id = $1 AND delivery_key = ANY($2::text[])',
    [common.integrationId, items.map((i) => i.deliveryKey)],
  );
  const byKey = new Map(rows.map((r) => [r.delivery_key, r]));
  return items.flatMap((i) => {
    const row = byKey.get(i.deliveryKey);
    return row ? [{ row, created: created.has(row.id) }] : [];
  });
}

export async function getProviderWebhooks(db: Queryable, ids: string[]): Promise<ProviderWebhookRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ProviderWebhookRow>('SELECT * FROM incoming_webhooks WHERE id = ANY($1::uuid[])', [
    ids,
  ]);
  return rows;
}

/** `beginAttempt` for many webhooks at once (see incoming-webhooks.ts for the semantics). */
export async function beginAttempts(
  db: Queryable,
  items: Array<{ webhookId: string; attempt: number }>,
  execution = 1,
): Promise<void> {
  if (items.length === 0) return;
  const ids = items.map((i) => i.webhookId);
  const attempts = items.map((i) => i.attempt);
  await db.query(
    `UPDATE incoming_webhook_attempts a SET status = 'abandoned', finished_at = now(),
       error = 'the worker stopped before this execution finished'
     FROM unnest($1::uuid[], $2::int[]) AS u(id, attempt)
     WHERE a.webhook_id = u.id AND (a.attempt, a.execution) < (u.attempt, $3) AND a.status = 'running'`,
    [ids, attempts, execution],
  );
  await db.query(
    `INSERT INTO incoming_webhook_attempts (webhook_id, attempt, execution, rerun, status)
     SELECT u.id, u.attempt, $3, $3 > 1, 'running' FROM unnest($1::uuid[], $2::int[]) AS u(id, attempt)
     ON CONFLICT (webhook_id, attempt, execution) DO UPDATE SET status = 'running', started_at = now(), finished_at = NULL,
       error = NULL, log = '[]'`,
    [ids, attempts, execution],
  );
  await db.query(
    `UPDATE incoming_webhooks w SET status = 'processing', attempts_made = GREATEST(w.attempts_made, u.attempt),
       updated_at = now()
     FROM unnest($1::uuid[], $2::int[]) AS u(id, attempt) WHERE w.id = u.id`,
    [ids, attempts],
  );
}

export interface AttemptResult {
  webhookId: string;
  attempt: number;
  status: IncomingWebhookStatus;
  /** The attempt row's status: succeeded (stale counts as a successful outcome) or failed. */
  attemptStatus: 'succeeded' | 'failed';
  result: unknown;
  error: string | null;
  log: Array<{ at: string; message: string }>;
  /** The webhook is done (no automatic attempt follows). */
  final: boolean;
}

/** Finishes many attempts and sets each webhook's status in two statements. */
export async function finishAttempts(db: Queryable, results: AttemptResult[], execution = 1): Promise<void> {
  if (results.length === 0) return;
  const ids = results.map((r) => r.webhookId);
  await db.query(
    `UPDATE incoming_webhook_attempts a SET status = u.status, finished_at = now(), error = u.error, log = u.log
     FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[]) AS u(id, attempt, status, error, log)
     WHERE a.webhook_id = u.id AND a.attempt = u.attempt AND a.execution = $6`,
    [
      ids,
      results.map((r) => r.attempt),
      results.map((r) => r.attemptStatus),
      results.map((r) => r.error),
      results.map((r) => JSON.stringify(r.log)),
      execution,
    ],
  );
  await db.query(
    `UPDATE incoming_webhooks w SET status = u.status, result = COALESCE(u.result, w.result), error = u.error,
       processed_at = CASE WHEN u.final THEN now() ELSE w.processed_at END, updated_at = now()
     FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::boolean[]) AS u(id, status, result, error, final)
     WHERE w.id = u.id`,
    [
      ids,
      results.map((r) => r.status),
      results.map((r) => (r.result === undefined || r.result === null ? null : JSON.stringify(r.result))),
      results.map((r) => r.error),
      results.map((r) => r.final),
    ],
  );
}

/**
 * Claims a failed webhook for a manual retry: it goes back to `queued` and its retry counter
 * grows (the retry's workflow id uses it). Undefined when it is not failed any more.
 */
export async function claimManualRetry(db: Queryable, id: string, workflowIdFor: (row: ProviderWebhookRow) => string) {
  const { rows } = await db.query<ProviderWebhookRow>(
    `UPDATE incoming_webhooks SET status = 'queued', manual_retries = manual_retries + 1, error = NULL,
       processed_at = NULL, updated_at = now()
     WHERE id = $1 AND status = 'failed' RETURNING *`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const workflowId = workflowIdFor(row);
  await db.query('UPDATE incoming_webhooks SET workflow_id = $2 WHERE id = $1', [id, workflowId]);
  return { ...row, workflow_id: workflowId };
}
