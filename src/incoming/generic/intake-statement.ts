import {
  INSERT_NEW_INCOMING_WEBHOOK,
  newIncomingWebhookValues,
  type NewIncomingWebhook,
} from '../db/incoming-webhooks';
import type { NewIntakeJob } from '../../platform/intake/jobs';
import { requestArrivalValues, type NewInboundRequest } from '../../platform/ingress/inbound-requests';
import type { Db, Queryable } from '../../platform/db/pool';
import { groupCommitted } from '../../platform/db/statement-batcher';

/** Placeholders in a reply template that the statement fills for a duplicate. */
export const REPLY_ID = '__ID__';
export const REPLY_DUPLICATE = '__DUPLICATE__';

// Prepared once per connection (it is the hot path): PostgreSQL parses and plans it once.
const INCOMING_WEBHOOK_INTAKE = `WITH ins AS (${INSERT_NEW_INCOMING_WEBHOOK} RETURNING id),
  hit AS (
    SELECT id, true AS created FROM ins
    UNION ALL
    SELECT id, false FROM incoming_webhooks
    WHERE integration_id = $2 AND delivery_key = $4 AND NOT EXISTS (SELECT 1 FROM ins)),
  job AS (
    INSERT INTO intake_jobs (kind, workflow_id, payload) SELECT $12, $13, $14::jsonb FROM ins),
  logged AS (
    INSERT INTO inbound_requests (integration_id, provider, method, path, headers, body, body_bytes, remote_addr,
      duration_ms, response_status, response_body, outcome, incoming_webhook_id, note, mailbox_id)
    SELECT $2, $3, $15, $16, $17, $18, $19, $20, $21, $22,
      replace(replace($23, '"${REPLY_ID}"', to_json(hit.id::text)::text), '"${REPLY_DUPLICATE}"', (NOT hit.created)::text),
      CASE WHEN hit.created THEN 'accepted' ELSE 'duplicate' END, hit.id, $24, NULL
    FROM hit)
  SELECT id, created FROM hit`;

/**
 * A webhook's whole intake write as one statement — its own transaction, one round trip on the
 * hot path instead of five: the row unless its delivery key was seen, the outbox row for a new
 * one, and the request's log entry. The log keeps the answer actually given: `replyTemplate`
 * with the row's id and whether it was a duplicate filled in, and `duplicate` as outcome for a
 * repeat. No NOTIFY (see `recordIntake`): the caller wakes starters after it. Undefined when a
 * concurrent first copy committed after this statement's snapshot (the conflict is seen, the
 * row is not): the caller then uses the ordinary transaction.
 */
export async function insertIncomingWebhookIntake(
  db: Queryable,
  w: NewIncomingWebhook,
  job: NewIntakeJob,
  log: NewInboundRequest,
  replyTemplate: string,
): Promise<{ id: string; created: boolean } | undefined> {
  const { rows } = await db.query<{ id: string; created: boolean }>({
    name: 'incoming-webhook-intake',
    text: INCOMING_WEBHOOK_INTAKE,
    values: [
      ...newIncomingWebhookValues(w),
      job.kind,
      job.workflowId,
      JSON.stringify(job.payload),
      ...requestArrivalValues(log),
      replyTemplate,
      log.note ?? null,
    ],
  });
  return rows[0];
}

export interface IncomingWebhookIntake {
  webhook: NewIncomingWebhook;
  job: NewIntakeJob;
  log: NewInboundRequest;
  replyTemplate: string;
}

// The same write for many webhooks at once: their values arrive as one JSON array (one
// parameter, decoded by PostgreSQL), `n` being each one's place in the batch.
const INCOMING_WEBHOOKS_INTAKE = `WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS r(n int, id uuid, integration_id uuid, provider text,
      delivery_key text, event_type text, entity_type text, entity_id text, processing_method text,
      attempts_allowed int, workflow_id text, payload text, job_kind text, job_workflow_id text, job_payload jsonb,
      method text, path text, headers jsonb, body text, body_bytes int, remote_addr text, duration_ms int,
      response_status int, reply text, note text)),
  ins AS (
    INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, event_type, entity_type, entity_id,
      processing_method, status, attempts_allowed, workflow_id, payload)
    SELECT id, integration_id, provider, delivery_key, event_type, entity_type, entity_id, processing_method,
      'queued', attempts_allowed, workflow_id, payload
    -- Keys in one global order: two batches sharing keys then wait on each other, never deadlock.
    FROM input ORDER BY integration_id, delivery_key
    ON CONFLICT (integration_id, delivery_key) DO NOTHING
    RETURNING id),
  hit AS (
    SELECT input.n, input.id, true AS created FROM input JOIN ins ON ins.id = input.id
    UNION ALL
    SELECT input.n, w.id, false FROM input
    JOIN incoming_webhooks w ON w.integration_id = input.integration_id AND w.delivery_key = input.delivery_key
    WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.id = input.id)),
  job AS (
    INSERT INTO intake_jobs (kind, workflow_id, payload)
    SELECT job_kind, job_workflow_id, job_payload FROM input JOIN ins ON ins.id = input.id ORDER BY n),
  logged AS (
    INSERT INTO inbound_requests (integration_id, provider, method, path, headers, body, body_bytes, remote_addr,
      duration_ms, response_status, response_body, outcome, incoming_webhook_id, note, mailbox_id)
    SELECT input.integration_id, input.provider, method, path, headers, body, body_bytes, remote_addr, duration_ms,
      response_status,
      replace(replace(reply, '"${REPLY_ID}"', to_json(hit.id::text)::text), '"${REPLY_DUPLICATE}"', (NOT hit.created)::text),
      CASE WHEN hit.created THEN 'accepted' ELSE 'duplicate' END, hit.id, note, NULL
    FROM input JOIN hit ON hit.n = input.n ORDER BY input.n)
  SELECT n, id, created FROM hit`;

async function insertIncomingWebhooksIntake(
  db: Db,
  items: IncomingWebhookIntake[],
): Promise<Array<{ id: string; created: boolean } | undefined>> {
  if (items.length === 1) {
    const [{ webhook, job, log, replyTemplate }] = items as [IncomingWebhookIntake];
    return [await insertIncomingWebhookIntake(db, webhook, job, log, replyTemplate)];
  }
  // The log entry's fields go under their own names (the recordset ignores the ones it does not read).
  const input = items.map(({ webhook, job, log, replyTemplate }, n) => ({
    ...log,
    ...webhook,
    n,
    job_kind: job.kind,
    job_workflow_id: job.workflowId,
    job_payload: job.payload,
    reply: replyTemplate,
  }));
  const { rows } = await db.query<{ n: number; id: string; created: boolean }>({
    name: 'incoming-webhooks-intake',
    text: INCOMING_WEBHOOKS_INTAKE,
    values: [JSON.stringify(input)],
  });
  const byPlace: Array<{ id: string; created: boolean } | undefined> = new Array(items.length).fill(undefined);
  for (const r of rows) byPlace[r.n] = { id: r.id, created: r.created };
  return byPlace;
}

/**
 * `insertIncomingWebhookIntake` under group commit (`groupCommitted`): concurrent webhooks
 * commit together, each still answered only after its own row committed. Undefined as there.
 */
export const submitIncomingWebhookIntake = groupCommitted(
  insertIncomingWebhooksIntake,
  // The body travels twice: as the webhook's payload and in its log entry.
  (item: IncomingWebhookIntake) => item.webhook.payload.length + item.log.body.length,
);
