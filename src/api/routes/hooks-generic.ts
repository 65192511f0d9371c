import { createHash, createHmac, randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { insertIncomingWebhook } from '../../db/incoming-webhooks';
import { getIntegration } from '../../db/integrations';
import type { Db } from '../../db/pool';
import type { Logger } from '../../logger';
import { safeEqual } from '../../security/compare';
import type { SecretBox } from '../../security/secret-box';
import { ATTEMPTS_BY_METHOD, isDeferred, type ProcessingMethod } from '../../shared/processing-methods';
import { SA } from '../../shared/search-attributes';
import { workflowIds, type InboundWebhookInput } from '../../shared/workflow-types';
import { decodeJsonStrict, DEFAULT_INPUT_LIMITS, inputErrorCode, type InputLimits } from '../../http/input-boundary';
import { errorBody } from '../errors';
import { answerAndLog } from '../ingress';
import { integrationAad, type IntegrationSecrets } from './integrations';

export const GENERIC_SIGNATURE_HEADER = 'x-switchyard-signature';
export const GENERIC_DELIVERY_HEADER = 'x-switchyard-delivery';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DELIVERY_RE = /^[A-Za-z0-9._:-]{1,200}$/;

/** `sha256=<hex>` of HMAC-SHA256 over the raw body, the generic integration's signature. */
export const signGeneric = (body: Buffer | string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const pick = (o: Record<string, unknown>, ...keys: string[]) => {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' || typeof v === 'number') return String(v).slice(0, 200);
  }
  return null;
};

export interface IngressDeps {
  db: Db;
  logger: Logger;
  temporal: Client;
  secrets: SecretBox;
  taskQueue: string;
  inbound: { activityTimeoutSeconds: number; retryInitialSeconds: number };
  inputLimits?: InputLimits;
}

/** `POST /hooks/generic/:integrationId`: verify, record, start one workflow per delivery, answer 202. */
export function genericHooksRouter(deps: IngressDeps): Router {
  const { db, temporal, secrets } = deps;
  const router = express.Router();

  router.post('/:integrationId', async (req, res) => {
    const integrationId = req.params.integrationId;
    const reject = (status: number, code: string, message: string, knownId: string | null) =>
      answerAndLog(deps, req, res, 'generic', {
        status,
        body: errorBody(code, message),
        outcome: 'rejected',
        integrationId: knownId,
      });

    const integration = UUID_RE.test(integrationId) ? await getIntegration(db, integrationId) : undefined;
    if (!integration || integration.provider !== 'generic') {
      return reject(404, 'unknown_integration', `No generic integration ${integrationId}`, null);
    }
    if (!integration.enabled) return reject(403, 'integration_disabled', 'This integration is disabled', integration.id);

    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const { signingSecret } = secrets.decryptJson<IntegrationSecrets>(integration.secrets_enc, integrationAad(integration.id));
    const given = req.get(GENERIC_SIGNATURE_HEADER);
    if (!given) return reject(401, 'missing_signature', `The ${GENERIC_SIGNATURE_HEADER} header is required`, integration.id);
    if (!safeEqual(given.trim(), signGeneric(raw, signingSecret))) {
      return reject(401, 'invalid_signature', 'The signature does not match the body', integration.id);
    }

    const decoded = decodeJsonStrict(raw, deps.inputLimits ?? DEFAULT_INPUT_LIMITS);
    if (!decoded.ok) return reject(400, inputErrorCode(decoded.problem), decoded.problem.message, integration.id);
    const payload = decoded.value;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      return reject(400, 'invalid_payload', 'The body must be a JSON object', integration.id);
    }
    const deliveryHeader = req.get(GENERIC_DELIVERY_HEADER);
    if (deliveryHeader !== undefined && !DELIVERY_RE.test(deliveryHeader)) {
      return reject(400, 'invalid_delivery_id', `${GENERIC_DELIVERY_HEADER} must be 1-200 of [A-Za-z0-9._:-]`, integration.id);
    }
    // Without a delivery id, identical bodies are the same delivery: provider retries resend bytes verbatim.
    const deliveryKey = deliveryHeader ?? createHash('sha256').update(raw).digest('hex');
    const fields = payload as Record<string, unknown>;
    const data = typeof fields['data'] === 'object' && fields['data'] !== null ? (fields['data'] as Record<string, unknown>) : {};
    const method = integration.processing_method as ProcessingMethod;
    const workflowId = workflowIds.inbound(integration.id, deliveryKey);
    const eventType = pick(fields, 'type', 'event', 'eventType', 'event_type');
    const entityId = pick(fields, 'objectId', 'entityId', 'id') ?? pick(data, 'id');

    const { row, created } = await insertIncomingWebhook(db, {
      id: randomUUID(),
      integration_id: integration.id,
      provider: 'generic',
      delivery_key: deliveryKey,
      event_type: eventType,
      entity_type: pick(fields, 'entityType', 'entity_type', 'object'),
      entity_id: entityId,
      processing_method: method,
      attempts_allowed: ATTEMPTS_BY_METHOD[method],
      workflow_id: workflowId,
      payload: raw.toString('utf8'),
    });

    // Starting again for a duplicate is deliberate: if an earlier request stored the row but
    // died before starting the workflow, this start repairs it; otherwise the id dedupes.
    const input: InboundWebhookInput = {
      incomingWebhookId: row.id,
      maxAttempts: row.attempts_allowed,
      activityTimeoutSeconds: deps.inbound.activityTimeoutSeconds,
      retryInitialSeconds: deps.inbound.retryInitialSeconds,
    };
    try {
      await temporal.workflow.start('inboundWebhook', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        typedSearchAttributes: [
          { key: SA.integration, value: 'generic' },
          { key: SA.integrationId, value: integration.id },
          ...(eventType ? [{ key: SA.eventType, value: eventType }] : []),
          ...(entityId ? [{ key: SA.entityId, value: entityId }] : []),
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }

    return answerAndLog(deps, req, res, 'generic', {
      status: 202,
      body: {
        id: row.id,
        status: 'accepted',
        duplicate: !created,
        message: isDeferred(method)
          ? 'Accepted: the webhook was deferred to the incoming webhook service'
          : 'Accepted: the webhook is being processed',
      },
      outcome: created ? 'accepted' : 'duplicate',
      integrationId: integration.id,
      incomingWebhookId: row.id,
    });
  });

  return router;
}
