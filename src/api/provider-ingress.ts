import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { getIntegration, type IntegrationRow } from '../db/integrations';
import type { Db } from '../db/pool';
import { insertProviderWebhooks, type ProviderWebhookRow } from '../db/provider-webhooks';
import { InvalidWebhookBodyError, type InboundProviderEvent } from '../integrations/inbound-event';
import type { ProviderName, ProviderSettings } from '../integrations/provider-types';
import { providerSecrets, resolveProvider } from '../integrations/providers';
import type { Logger } from '../logger';
import type { SecretBox } from '../security/secret-box';
import { inboundBatchWorkflowId, type BatchItem } from '../shared/inbound-batch';
import { ATTEMPTS_BY_METHOD, isDeferred, type ProcessingMethod } from '../shared/processing-methods';
import { workflowIds } from '../shared/workflow-types';
import { errorBody } from './errors';
import { answerAndLog } from './ingress';
import { signalBatchWorkflow, startWebhookWorkflow, type InboundStartDeps } from './inbound-start';

export interface ProviderIngressDeps extends InboundStartDeps {
  db: Db;
  logger: Logger;
  secrets: SecretBox;
}

/** How one provider's webhooks are read: signature, body, and which events the integration wants. */
export interface ProviderWire {
  provider: ProviderName;
  verify(raw: Buffer, req: Request, webhookKey: string): boolean;
  /** Xero's intent-to-receive wants a bare 401; QuickBooks gets the JSON error envelope. */
  bareUnauthorized: boolean;
  /** Reads the verified body; throws InvalidWebhookBodyError. `[]` is Xero's intent-to-receive. */
  events(raw: Buffer): InboundProviderEvent[];
  /** Whether the integration's settings ask for this event (entity type, tenant/realm). */
  wanted(event: InboundProviderEvent, settings: ProviderSettings): boolean;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const DEFERRED_MESSAGE = 'Accepted: the webhook was deferred to the incoming webhook service';

/**
 * Ingress for a provider webhook: verify the signature over the raw bytes, read every event,
 * store one incoming webhook per event (idempotently), start or signal its processing, and
 * answer — all before the provider's deadline (Xero 5 s, QuickBooks 3 s). Every request,
 * refused ones included, is logged with the answer it got.
 */
export async function handleProviderHook(deps: ProviderIngressDeps, wire: ProviderWire, req: Request, res: Response) {
  const integrationId = String(req.params['integrationId'] ?? '');
  const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const reject = (status: number, code: string, message: string, knownId: string | null, details?: unknown) =>
    answerAndLog(deps, req, res, wire.provider, {
      status,
      body: errorBody(code, message, details),
      outcome: 'rejected',
      integrationId: knownId,
    });

  const integration = UUID_RE.test(integrationId) ? await getIntegration(deps.db, integrationId) : undefined;
  if (!integration) return reject(404, 'unknown_integration', `No integration ${integrationId}`, null);
  if (integration.provider !== wire.provider) {
    return reject(404, 'wrong_provider', `Integration ${integrationId} is a ${integration.provider} integration, not ${wire.provider}`, integration.id);
  }
  if (!integration.enabled) return reject(403, 'integration_disabled', 'This integration is disabled', integration.id);

  const { webhookKey } = providerSecrets(deps.secrets, integration);
  if (!wire.verify(raw, req, webhookKey)) {
    if (wire.bareUnauthorized) {
      res.set('x-switchyard-error', 'invalid_signature');
      return answerAndLog(deps, req, res, wire.provider, { status: 401, outcome: 'rejected', integrationId: integration.id });
    }
    return reject(401, 'invalid_signature', 'The signature is missing or does not match the body', integration.id);
  }

  let events: InboundProviderEvent[];
  try {
    events = wire.events(raw);
  } catch (err) {
    if (err instanceof InvalidWebhookBodyError) return reject(400, err.code, err.message, integration.id, err.details);
    throw err;
  }
  // Xero's intent-to-receive: a correctly signed empty delivery gets a bare 200.
  if (events.length === 0) {
    return answerAndLog(deps, req, res, wire.provider, { status: 200, outcome: 'accepted', integrationId: integration.id });
  }

  const { settings } = resolveProvider(integration);
  const wanted = dedupe(events.filter((e) => wire.wanted(e, settings)));
  const method = integration.processing_method as ProcessingMethod;
  const stored = await store(deps, integration, method, wanted);
  await startProcessing(deps, integration, method, stored);

  const created = stored.filter((s) => s.created).length;
  const deferred = isDeferred(method);
  return answerAndLog(deps, req, res, wire.provider, {
    status: deferred ? 202 : 200,
    body: {
      status: 'accepted',
      message: deferred ? DEFERRED_MESSAGE : 'Accepted: the webhook is being processed',
      received: events.length,
      accepted: created,
      duplicates: stored.length - created,
      ignored: events.length - wanted.length,
      ids: stored.map((s) => s.row.id),
    },
    outcome: created > 0 || stored.length === 0 ? 'accepted' : 'duplicate',
    integrationId: integration.id,
    incomingWebhookId: stored.length === 1 ? stored[0]!.row.id : null,
  });
}

function dedupe(events: InboundProviderEvent[]): InboundProviderEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.deliveryKey) && !!seen.add(e.deliveryKey));
}

async function store(deps: ProviderIngressDeps, integration: IntegrationRow, method: ProcessingMethod, events: InboundProviderEvent[]) {
  return insertProviderWebhooks(
    deps.db,
    {
      integrationId: integration.id,
      provider: integration.provider,
      processingMethod: method,
      attemptsAllowed: ATTEMPTS_BY_METHOD[method],
    },
    events.map((e) => ({
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
    })),
  );
}

/**
 * New webhooks, and duplicates still waiting (their first request may have died before the
 * start), go to processing; duplicates already handled are left alone.
 */
async function startProcessing(
  deps: ProviderIngressDeps,
  integration: IntegrationRow,
  method: ProcessingMethod,
  stored: Array<{ row: ProviderWebhookRow; created: boolean }>,
) {
  const due = stored.filter((s) => s.created || s.row.status === 'queued').map((s) => s.row);
  if (method !== 'service_delayed') {
    await Promise.all(due.map((row) => startWebhookWorkflow(deps, integration, row, { maxAttempts: row.attempts_allowed })));
    return;
  }
  const byTenant = new Map<string, BatchItem[]>();
  for (const row of due) {
    const tenant = row.tenant_id ?? '';
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), { webhookId: row.id, attempt: 1, maxAttempts: row.attempts_allowed }]);
  }
  await Promise.all([...byTenant].map(([tenant, items]) => signalBatchWorkflow(deps, integration, tenant, items)));
}

/**
 * Stores provider events that did not come through a webhook (a QuickBooks CDC catch-up) and
 * starts their processing, exactly as the ingress does for a delivery; known ones dedupe.
 */
export async function acceptProviderEvents(deps: ProviderIngressDeps, integration: IntegrationRow, events: InboundProviderEvent[]) {
  const method = integration.processing_method as ProcessingMethod;
  const stored = await store(deps, integration, method, dedupe(events));
  await startProcessing(deps, integration, method, stored);
  return {
    accepted: stored.filter((s) => s.created).length,
    duplicates: stored.filter((s) => !s.created).length,
    ids: stored.map((s) => s.row.id),
  };
}
