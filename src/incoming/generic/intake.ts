import { createHash, randomUUID } from 'node:crypto';
import { getIntegrationForIngress } from '../db/integrations';
import { insertIncomingWebhook } from '../db/incoming-webhooks';
import { REPLY_DUPLICATE, REPLY_ID, submitIncomingWebhookIntake } from './intake-statement';
import {
  DELIVERY_ID_RE,
  GENERIC_DELIVERY_HEADER,
  GENERIC_SIGNATURE_HEADER,
  signGeneric,
  verifyStandardWebhook,
} from './webhook';
import { integrationSecrets } from '../providers';
import { DEFAULT_INPUT_LIMITS, inputErrorCode, type InputLimits } from '../../platform/http/input-boundary';
import { safeEqual } from '../../platform/security/compare';
import type { SecretBox } from '../../platform/security/secret-box';
import { ATTEMPTS_BY_METHOD, isDeferred, type ProcessingMethod } from '../processing-methods';
import { workflowIds } from '../workflow-contract';
import type { InboundProcessingSettings } from '../processing-methods';
import { inboundStartJob } from '../webhook-starter';
import {
  commitIntakeInOneStatement,
  decodeIngressJson,
  logOnly,
  type IngressReply,
  type IngressRequest,
  type IntakeDeps,
} from '../../platform/ingress/ingress';
import { DEFERRED_MESSAGE, PROCESSING_MESSAGE, refusal, UUID_RE } from '../../platform/ingress/refusals';

export interface GenericIntakeDeps extends IntakeDeps {
  inputLimits?: InputLimits;
  secrets: SecretBox;
  processing: InboundProcessingSettings;
}

const pick = (o: Record<string, unknown>, ...keys: string[]) => {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' || typeof v === 'number') return String(v).slice(0, 200);
  }
  return null;
};

/**
 * A generic signed webhook: verified over the raw bytes (Standard Webhooks, or the body-only
 * HMAC an integration opted into), stored once per delivery (the signed `webhook-id`; for
 * body-hmac the `x-switchyard-delivery` header, else the body's hash), answered 202 once committed.
 */
export async function acceptGenericWebhook(deps: GenericIntakeDeps, req: IngressRequest): Promise<IngressReply> {
  const integrationId = req.params['integrationId'] ?? '';
  const reject = (status: number, code: string, message: string, knownId: string | null) =>
    logOnly(deps, 'generic', req, refusal(status, code, message, knownId));

  const integration = UUID_RE.test(integrationId) ? await getIntegrationForIngress(deps.db, integrationId) : undefined;
  if (!integration || integration.provider !== 'generic') {
    return reject(404, 'unknown_integration', `No generic integration ${integrationId}`, null);
  }
  if (!integration.enabled) return reject(403, 'integration_disabled', 'This integration is disabled', integration.id);

  const { signingSecret } = integrationSecrets<{ signingSecret: string }>(deps.secrets, integration);
  let deliveryId: string | undefined;
  if (integration.signature_scheme === 'body-hmac') {
    const given = req.headers[GENERIC_SIGNATURE_HEADER];
    if (!given)
      return reject(401, 'missing_signature', `The ${GENERIC_SIGNATURE_HEADER} header is required`, integration.id);
    if (!safeEqual(given.trim(), signGeneric(req.raw, signingSecret))) {
      return reject(401, 'invalid_signature', 'The signature does not match the body', integration.id);
    }
    deliveryId = req.headers[GENERIC_DELIVERY_HEADER];
    if (deliveryId !== undefined && !DELIVERY_ID_RE.test(deliveryId)) {
      return reject(
        400,
        'invalid_delivery_id',
        `${GENERIC_DELIVERY_HEADER} must be 1-200 of [A-Za-z0-9._:-]`,
        integration.id,
      );
    }
  } else {
    // Standard Webhooks: the signed id is the delivery key, so a replay within the time window is
    // a duplicate, one after it is too old, and one under a new id fails the signature.
    const checked = verifyStandardWebhook(req.headers, req.raw, signingSecret, Date.now());
    if (!checked.ok) return reject(checked.status, checked.code, checked.message, integration.id);
    deliveryId = checked.id;
  }

  const decoded = decodeIngressJson(req, deps.inputLimits ?? DEFAULT_INPUT_LIMITS);
  if (!decoded.ok) return reject(400, inputErrorCode(decoded.problem), decoded.problem.message, integration.id);
  const payload = decoded.value;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return reject(400, 'invalid_payload', 'The body must be a JSON object', integration.id);
  }
  // Without a delivery id (body-hmac only), identical bodies are the same delivery: provider retries resend bytes verbatim.
  const deliveryKey = deliveryId ?? createHash('sha256').update(req.raw).digest('hex');
  const fields = payload as Record<string, unknown>;
  const data =
    typeof fields['data'] === 'object' && fields['data'] !== null ? (fields['data'] as Record<string, unknown>) : {};
  const method = integration.processing_method as ProcessingMethod;

  const webhook = {
    id: randomUUID(),
    integration_id: integration.id,
    provider: 'generic',
    delivery_key: deliveryKey,
    event_type: pick(fields, 'type', 'event', 'eventType', 'event_type'),
    entity_type: pick(fields, 'entityType', 'entity_type', 'object'),
    entity_id: pick(fields, 'objectId', 'entityId', 'id') ?? pick(data, 'id'),
    processing_method: method,
    attempts_allowed: ATTEMPTS_BY_METHOD[method],
    workflow_id: workflowIds.inbound(integration.id, deliveryKey),
    payload: req.raw.toString('utf8'),
  };
  const message = isDeferred(method) ? DEFERRED_MESSAGE : PROCESSING_MESSAGE;
  const reply = (id: string, created: boolean): IngressReply => ({
    status: 202,
    body: { id, status: 'accepted', duplicate: !created, message },
    outcome: created ? 'accepted' : 'duplicate',
    integrationId: integration.id,
    incomingWebhookId: id,
  });
  const startJob = inboundStartJob(deps.processing, integration, webhook);

  return commitIntakeInOneStatement(
    deps,
    'generic',
    req,
    reply(webhook.id, true),
    async (_db, log) => {
      const replyTemplate = JSON.stringify({
        id: REPLY_ID,
        status: 'accepted',
        duplicate: REPLY_DUPLICATE,
        message,
      } satisfies Record<string, string>);
      // Committed together with the other webhooks arriving meanwhile (group commit).
      const stored = await submitIncomingWebhookIntake(deps.db, { webhook, job: startJob, log, replyTemplate });
      return stored && { reply: reply(stored.id, stored.created), queued: stored.created };
    },
    // A concurrent first copy the statement could not see: decided in a transaction instead.
    async (tx) => {
      const { row, created } = await insertIncomingWebhook(tx, webhook);
      return { jobs: created ? [startJob] : [], reply: reply(row.id, created) };
    },
  );
}
