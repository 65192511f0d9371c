import { randomUUID } from 'node:crypto';
import type { NewIntakeJob } from '../platform/intake/jobs';
import { getIntegrationForIngress, type IntegrationRow } from './db/integrations';
import { submitProviderWebhooksIntake } from './provider-intake-statement';
import {
  insertProviderWebhooks,
  type NewProviderWebhook,
  type ProviderWebhookCommon,
  type ProviderWebhookRow,
} from './db/provider-webhooks';
import { InvalidWebhookBodyError, type InboundProviderEvent } from './inbound-event';
import { providerSecrets, resolveProvider } from './providers';
import type { ProviderWire } from './provider-wire';
import type { SecretBox } from '../platform/security/secret-box';
import { inboundBatchWorkflowId, type BatchItem } from './workflow-contract';
import { ATTEMPTS_BY_METHOD, isDeferred, type ProcessingMethod } from './processing-methods';
import { workflowIds } from './workflow-contract';
import { inboundBatchJob, inboundStartJob, type InboundProcessingSettings } from './jobs';
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
