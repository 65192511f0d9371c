import { randomUUID } from 'node:crypto';
import {
  INBOUND_REQUEST_COLUMNS,
  inboundRequestPlaceholders,
  inboundRequestValues,
  type NewInboundRequest,
} from '../platform/ingress/inbound-requests';
import type { NewIntakeJob } from '../platform/intake/jobs';
import type { Db, Queryable } from '../platform/db/pool';
import { groupCommitted } from '../platform/db/statement-batcher';
import { getIntegrationForIngress, type IntegrationRow } from './db/integrations';
import {
  insertNewProviderWebhooks,
  insertProviderWebhooks,
  newProviderWebhookValues,
  type NewProviderWebhook,
  type ProviderWebhookCommon,
  type ProviderWebhookRow,
} from './db/provider-webhooks';
import { InvalidWebhookBodyError, type InboundProviderEvent } from './inbound-event';
import { providerSecrets, resolveProvider } from './providers';
import type { ProviderWire } from './provider-wire';
import type { SecretBox } from '../platform/security/secret-box';
import { inboundBatchWorkflowId, type BatchItem } from './workflow-contract';
import {
  ATTEMPTS_BY_METHOD,
  isDeferred,
  type InboundProcessingSettings,
  type ProcessingMethod,
} from './processing-methods';
import { workflowIds } from './workflow-contract';
import { inboundBatchJob } from './batch-starter';
import { inboundStartJob } from './webhook-starter';
import {
  commitIntakeInOneStatement,
  commitWork,
  logOnly,
  type IngressReply,
  type IngressRequest,
  type IntakeDeps,
} from '../platform/ingress/ingress';
import { DEFERRED_MESSAGE, PROCESSING_MESSAGE, refusal, UUID_RE } from '../platform/ingress/refusals';

export interface ProviderIntakeDeps extends IntakeDeps {
  secrets: SecretBox;
  processing: InboundProcessingSettings;
}

/**
 * A Xero or QuickBooks webhook: verify the signature over the raw bytes, read every event, and
 * in one transaction store one incoming webhook per wanted event (idempotently), the starts or
 * batch signals they need and the request's log entry; answer right after the commit, well
 * inside the provider's deadline (Xero 5 s, QuickBooks 3 s).
 */
export async function acceptProviderWebhook(
  deps: ProviderIntakeDeps,
  wire: ProviderWire,
  req: IngressRequest,
): Promise<IngressReply> {
  const integrationId = req.params['integrationId'] ?? '';
  const reject = (status: number, code: string, message: string, knownId: string | null, details?: unknown) =>
    logOnly(deps, wire.provider, req, refusal(status, code, message, knownId, details));

  const integration = UUID_RE.test(integrationId) ? await getIntegrationForIngress(deps.db, integrationId) : undefined;
  if (!integration) return reject(404, 'unknown_integration', `No integration ${integrationId}`, null);
  if (integration.provider !== wire.provider) {
    const message = `Integration ${integrationId} is a ${integration.provider} integration, not ${wire.provider}`;
    return reject(404, 'wrong_provider', message, integration.id);
  }
  if (!integration.enabled) return reject(403, 'integration_disabled', 'This integration is disabled', integration.id);

  const { webhookKey } = providerSecrets(deps.secrets, integration);
  if (!wire.verify(req.raw, req.headers, webhookKey)) {
    if (wire.bareAnswers) {
      const reply: IngressReply = {
        status: 401,
        headers: { 'x-switchyard-error': 'invalid_signature' },
        outcome: 'rejected',
        integrationId: integration.id,
        note: 'The signature is missing or does not match the body',
      };
      return logOnly(deps, wire.provider, req, reply);
    }
    return reject(401, 'invalid_signature', 'The signature is missing or does not match the body', integration.id);
  }

  let events: InboundProviderEvent[];
  try {
    events = wire.events(req.raw);
  } catch (err) {
    if (err instanceof InvalidWebhookBodyError) return reject(400, err.code, err.message, integration.id, err.details);
    throw err;
  }
  // Xero's intent-to-receive: a correctly signed empty delivery gets a bare 200.
  if (events.length === 0) {
    const note = 'Intent to receive: signature verified';
    return logOnly(deps, wire.provider, req, { status: 200, outcome: 'accepted', integrationId: integration.id, note });
  }

  const { settings } = resolveProvider(integration);
  const wanted = dedupe(events.filter((e) => wire.wanted(e, settings)));
  const method = integration.processing_method as ProcessingMethod;
  const rows = newRows(integration, method, wanted);
  const answer = (stored: Array<{ id: string; created: boolean }>): IngressReply => {
    const created = stored.filter((s) => s.created).length;
    const ignored = events.length - wanted.length;
    const summary = {
      status: wanted.length === 0 ? 'ignored' : 'accepted',
      message: message(method, wanted.length, ignored),
      received: events.length,
      accepted: created,
      duplicates: stored.length - created,
      ignored,
      ids: stored.map((s) => s.id),
    };
    return {
      status: 200,
      ...(wire.bareAnswers
        ? {
            note: `${summary.message} (${summary.received} received, ${summary.accepted} new, ${summary.duplicates} duplicates, ${ignored} ignored)`,
          }
        : { body: summary }),
      outcome: wanted.length === 0 ? 'ignored' : created > 0 ? 'accepted' : 'duplicate',
      integrationId: integration.id,
      incomingWebhookId: stored.length === 1 ? stored[0]!.id : null,
    };
  };

  // Usually every event is new: one statement writes it all. Otherwise a transaction sorts
  // the new events from the known ones.
  const allNew = answer(rows.map((r) => ({ id: r.id, created: true })));
  const allNewJobs = processingJobs(deps.processing, integration, method, rows.map(asStored(method)));
  return commitIntakeInOneStatement(
    deps,
    wire.provider,
    req,
    allNew,
    // Committed together with the other webhooks arriving meanwhile (group commit).
    async (_db, log) =>
      (await submitProviderWebhooksIntake(deps.db, {
        common: common(integration, method),
        items: rows,
        jobs: allNewJobs,
        log,
      }))
        ? { reply: allNew, queued: allNewJobs.length > 0 }
        : undefined,
    async (tx) => {
      const stored = await insertProviderWebhooks(tx, common(integration, method), rows);
      const created = stored.filter((s) => s.created).map((s) => s.row);
      return {
        reply: answer(stored.map((s) => ({ id: s.row.id, created: s.created }))),
        jobs: processingJobs(deps.processing, integration, method, created),
      };
    },
  );
}

function message(method: ProcessingMethod, wanted: number, ignored: number): string {
  if (wanted === 0) {
    return `Ignored: none of the ${ignored} entities is of a type (or tenant) this integration is configured for`;
  }
  return isDeferred(method) ? DEFERRED_MESSAGE : PROCESSING_MESSAGE;
}

function dedupe(events: InboundProviderEvent[]): InboundProviderEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.deliveryKey) && !!seen.add(e.deliveryKey));
}

const common = (integration: IntegrationRow, method: ProcessingMethod): ProviderWebhookCommon => ({
  integrationId: integration.id,
  provider: integration.provider,
  processingMethod: method,
  attemptsAllowed: ATTEMPTS_BY_METHOD[method],
});

/** The rows a request's events become, each with its id and the workflow that will process it. */
function newRows(integration: IntegrationRow, method: ProcessingMethod, events: InboundProviderEvent[]) {
  return events.map((e): NewProviderWebhook => ({
    id: randomUUID(),
    deliveryKey: e.deliveryKey,
    eventType: e.eventType,
    entityType: e.entityType,
    entityId: e.entityId,
    tenantId: e.tenantId,
    eventAt: e.eventAt,
    workflowId:
      method === 'service_delayed'
        ? inboundBatchWorkflowId(integration.id, e.tenantId)
        : workflowIds.inbound(integration.id, e.deliveryKey),
    payload: e.payload,
  }));
}

/** What starting a webhook's processing needs of its row. */
type StoredWebhook = Pick<
  ProviderWebhookRow,
  'id' | 'workflow_id' | 'event_type' | 'entity_id' | 'tenant_id' | 'attempts_allowed'
>;

/** The row a new webhook is about to be stored as, for the one-statement write's jobs. */
const asStored =
  (method: ProcessingMethod) =>
  (r: NewProviderWebhook): StoredWebhook => ({
    id: r.id,
    workflow_id: r.workflowId,
    event_type: r.eventType,
    entity_id: r.entityId,
    tenant_id: r.tenantId,
    attempts_allowed: ATTEMPTS_BY_METHOD[method],
  });

/** New webhooks get a workflow each, or (delayed method) join their tenant's batch in one signal. */
function processingJobs(
  settings: InboundProcessingSettings,
  integration: IntegrationRow,
  method: ProcessingMethod,
  created: StoredWebhook[],
): NewIntakeJob[] {
  if (method !== 'service_delayed') return created.map((row) => inboundStartJob(settings, integration, row));
  const byTenant = new Map<string, BatchItem[]>();
  for (const row of created) {
    const tenant = row.tenant_id ?? '';
    byTenant.set(tenant, [
      ...(byTenant.get(tenant) ?? []),
      { webhookId: row.id, attempt: 1, maxAttempts: row.attempts_allowed },
    ]);
  }
  return [...byTenant].map(([tenant, items]) => inboundBatchJob(settings, integration, tenant, items));
}

/**
 * Provider events that did not come through a webhook (a QuickBooks CDC catch-up): stored and
 * their processing recorded in one transaction, exactly as a delivery's; known ones dedupe.
 */
export async function acceptProviderEvents(
  deps: Pick<ProviderIntakeDeps, 'db' | 'wake' | 'processing'>,
  integration: IntegrationRow,
  events: InboundProviderEvent[],
) {
  const method = integration.processing_method as ProcessingMethod;
  return commitWork(deps, async (tx) => {
    const stored = await insertProviderWebhooks(
      tx,
      common(integration, method),
      newRows(integration, method, dedupe(events)),
    );
    const created = stored.filter((s) => s.created).map((s) => s.row);
    return {
      result: {
        accepted: created.length,
        duplicates: stored.length - created.length,
        ids: stored.map((s) => s.row.id),
      },
      jobs: processingJobs(deps.processing, integration, method, created),
    };
  });
}

// The write of a webhook whose events are all new, as one statement.

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
