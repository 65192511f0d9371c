import { INBOUND_REQUEST_COLUMNS, inboundRequestPlaceholders, inboundRequestValues } from './inbound-requests';
import type { NewInboundRequest } from './inbound-requests';
import type { NewIntakeJob } from './intake-jobs';
import type { Queryable } from './pool';
import {
  insertNewProviderWebhooks,
  newProviderWebhookValues,
  type NewProviderWebhook,
  type ProviderWebhookCommon,
} from './provider-webhooks';

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
