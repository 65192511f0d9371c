import { INSERT_NEW_INCOMING_WEBHOOK, newIncomingWebhookValues, type NewIncomingWebhook } from './incoming-webhooks';
import type { NewIntakeJob } from './intake-jobs';
import { requestArrivalValues, type NewInboundRequest } from './inbound-requests';
import type { Queryable } from './pool';

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
