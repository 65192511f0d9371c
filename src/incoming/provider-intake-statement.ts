import {
  INBOUND_REQUEST_COLUMNS,
  inboundRequestPlaceholders,
  inboundRequestValues,
} from '../platform/ingress/inbound-requests';
import type { NewInboundRequest } from '../platform/ingress/inbound-requests';
import type { NewIntakeJob } from '../platform/intake/jobs';
import type { Db, Queryable } from '../platform/db/pool';
import { groupCommitted } from '../platform/db/statement-batcher';
import {
  insertNewProviderWebhooks,
  newProviderWebhookValues,
  type NewProviderWebhook,
  type ProviderWebhookCommon,
} from './db/provider-webhooks';

/** SQLSTATE of `switchyard_abort_statement` (migration 92). */
const STATEMENT_ABORTED = 'SY001';

// Prepared once per connection (it is the hot path): PostgreSQL parses and plans it once.
const PROVIDER_WEBHOOK_INTAKE = `
  WITH known AS (
    SELECT 1 FROM incoming_webhooks WHERE integration_id = $1 AND delivery_key = ANY($6::text[]) LIMIT 1),
  ins AS (${insertNewProviderWebhooks('WHERE NOT EXISTS (SELECT 1 FROM known)')} RETURNING id),
  n AS (SELECT count(*) AS c FROM ins),
  job AS (
    INSERT INTO intake_jobs (kind, workflow_id, payload)
    SELECT * FROM unnest($14::text[], $15::text[], $16::jsonb[]) WHERE (SELECT c FROM n) = cardinality($5::uuid[])),
  logged AS (
    INSERT INTO inbound_requests (${INBOUND_REQUEST_COLUMNS})
    SELECT ${inboundRequestPlaceholders(17)} WHERE (SELECT c FROM n) = cardinality($5::uuid[]))
  SELECT CASE WHEN c = cardinality($5::uuid[]) THEN true
              WHEN c = 0 THEN false
              ELSE switchyard_abort_statement('a concurrent copy of this webhook was stored first') END AS done
  FROM n`;

/**
 * A provider webhook's whole intake write as one statement — one round trip instead of five —
 * for the usual case where every event in it is new: the webhook rows, the outbox rows for their
 * processing and the request's log entry, built by the caller for exactly that case. Returns
 * false, with nothing written, when any event was known before (or a concurrent copy got in
 * first): the caller then decides in a transaction. Only a concurrent copy can make some events
 * new and others not; the statement then aborts itself so that no row stays without its outbox
 * row or log entry.
 */
export async function insertProviderWebhooksIntake(
  db: Queryable,
  common: ProviderWebhookCommon,
  items: NewProviderWebhook[],
  jobs: NewIntakeJob[],
  log: NewInboundRequest,
): Promise<boolean> {
  try {
    const { rows } = await db.query<{ done: boolean }>({
      name: 'provider-webhook-intake',
      text: PROVIDER_WEBHOOK_INTAKE,
      values: [
        ...newProviderWebhookValues(common, items),
        jobs.map((j) => j.kind),
        jobs.map((j) => j.workflowId),
        jobs.map((j) => JSON.stringify(j.payload)),
        ...inboundRequestValues(log),
      ],
    });
    return rows[0]!.done;
  } catch (err) {
    if ((err as { code?: string }).code === STATEMENT_ABORTED) return false;
    throw err;
  }
}

export interface ProviderWebhooksIntake {
  common: ProviderWebhookCommon;
  items: NewProviderWebhook[];
  jobs: NewIntakeJob[];
  log: NewInboundRequest;
}

// The same write for many requests at once, each still all or nothing: their values arrive as
// one JSON array (one parameter, decoded by PostgreSQL), `r` being a request's place in the
// batch.
const PROVIDER_WEBHOOKS_INTAKE = `
  WITH req AS (
    SELECT * FROM json_to_recordset($1::json) AS x(r int, integration_id uuid, provider text, processing_method text,
      attempts_allowed int, events json, jobs json, method text, path text, headers jsonb, body text, body_bytes int,
      remote_addr text, duration_ms int, response_status int, response_body text, outcome text,
      incoming_webhook_id uuid, note text)),
  ev AS (
    SELECT req.r, req.integration_id, req.provider, req.processing_method, req.attempts_allowed, e.*
    FROM req CROSS JOIN LATERAL json_to_recordset(req.events) AS e(id uuid, delivery_key text,
      event_type text, entity_type text, entity_id text, workflow_id text, payload text, tenant_id text,
      event_at timestamptz)),
  known AS (
    SELECT DISTINCT ev.r FROM ev
    JOIN incoming_webhooks w ON w.integration_id = ev.integration_id AND w.delivery_key = ev.delivery_key),
  ins AS (
    INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, event_type, entity_type, entity_id,
      processing_method, status, attempts_allowed, workflow_id, payload, tenant_id, event_at)
    SELECT id, integration_id, provider, delivery_key, event_type, entity_type, entity_id, processing_method,
      'queued', attempts_allowed, workflow_id, payload, tenant_id, event_at
    -- Keys in one global order (as every insert of provider webhooks): two statements sharing
    -- keys then wait on each other, never deadlock.
    FROM ev WHERE r NOT IN (SELECT r FROM known) ORDER BY integration_id, delivery_key
    ON CONFLICT (integration_id, delivery_key) DO NOTHING
    RETURNING id),
  -- Every request, those with no event left to store (all ignored) included: they are done at once.
  tally AS (
    SELECT req.r, count(ins.id) AS c, count(ev.id) AS total
    FROM req LEFT JOIN ev ON ev.r = req.r LEFT JOIN ins ON ins.id = ev.id GROUP BY req.r),
  done AS (SELECT r FROM tally WHERE c = total),
  job AS (
    INSERT INTO intake_jobs (kind, workflow_id, payload)
    SELECT j.kind, j.workflow_id, j.payload
    FROM req JOIN done ON done.r = req.r
    CROSS JOIN LATERAL json_to_recordset(req.jobs) AS j(kind text, workflow_id text, payload jsonb)
    ORDER BY req.r),
  logged AS (
    INSERT INTO inbound_requests (${INBOUND_REQUEST_COLUMNS})
    SELECT req.integration_id, req.provider, method, path, headers, body, body_bytes, remote_addr, duration_ms,
      response_status, response_body, outcome, incoming_webhook_id, note, NULL
    FROM req JOIN done ON done.r = req.r ORDER BY req.r)
  SELECT r, CASE WHEN c = total THEN true
                 WHEN c = 0 THEN false
                 ELSE switchyard_abort_statement('a concurrent copy of this webhook was stored first') END AS done
  FROM tally`;

async function insertManyProviderWebhooksIntake(
  db: Db,
  requests: ProviderWebhooksIntake[],
): Promise<Array<boolean | undefined>> {
  if (requests.length === 1) {
    const [{ common, items, jobs, log }] = requests as [ProviderWebhooksIntake];
    return [await insertProviderWebhooksIntake(db, common, items, jobs, log)];
  }
  // The log entry's fields go under their own names (the recordset ignores the ones it does not read).
  const input = requests.map(({ common, items, jobs, log }, r) => ({
    ...log,
    r,
    integration_id: common.integrationId,
    provider: common.provider,
    processing_method: common.processingMethod,
    attempts_allowed: common.attemptsAllowed,
    events: items.map((i) => ({
      id: i.id,
      delivery_key: i.deliveryKey,
      event_type: i.eventType,
      entity_type: i.entityType,
      entity_id: i.entityId,
      workflow_id: i.workflowId,
      payload: i.payload,
      tenant_id: i.tenantId,
      event_at: i.eventAt,
    })),
    jobs: jobs.map((j) => ({ kind: j.kind, workflow_id: j.workflowId, payload: j.payload })),
  }));
  const { rows } = await db.query<{ r: number; done: boolean }>({
    name: 'provider-webhooks-intake',
    text: PROVIDER_WEBHOOKS_INTAKE,
    values: [JSON.stringify(input)],
  });
  const byPlace: Array<boolean | undefined> = new Array(requests.length).fill(undefined);
  for (const row of rows) byPlace[row.r] = row.done;
  return byPlace;
}

/**
 * `insertProviderWebhooksIntake` under group commit (`groupCommitted`): concurrent provider
 * webhooks commit together, each request still all or nothing and answered only after its own
 * rows committed. A batch in which a concurrent copy got in first aborts, and each of its
 * requests is then decided on its own. False or undefined: the caller decides in a transaction.
 */
export const submitProviderWebhooksIntake = groupCommitted(
  insertManyProviderWebhooksIntake,
  (r: ProviderWebhooksIntake) => r.log.body.length + r.items.reduce((sum, i) => sum + i.payload.length, 0),
);
