import express, { type Router } from 'express';
import { z } from 'zod';
import {
  countIncomingWebhooksByStatus,
  getIncomingWebhook,
  listAttempts,
  listIncomingWebhooks,
  type IncomingWebhookRow,
} from '../../incoming/db/incoming-webhooks';
import { listInboundRequests, type InboundRequestRow } from '../../platform/ingress/inbound-requests';
import type { ProviderWebhookRow } from '../../incoming/db/provider-webhooks';
import { listResourceData, type ResourceDataRow } from '../../incoming/db/resource-data';
import { retryWebhooks, type RetryDeps } from '../../incoming/retry';
import type { Db } from '../../platform/db/pool';
import { HttpError, parseOr400 } from '../errors';
import { limitSchema, listPage, timeWindow, type Page } from '../pagination';

export const listQuery = z
  .object({
    integrationId: z.uuid().optional(),
    status: z.enum(['queued', 'processing', 'succeeded', 'failed', 'stale']).optional(),
    provider: z.enum(['generic', 'xero', 'quickbooks']).optional(),
    entityId: z.string().max(200).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().optional(),
    limit: limitSchema,
  })
  .strict();

const workflowLink = (temporalUiUrl: string, namespace: string, workflowId: string) =>
  `${temporalUiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;

interface Deps {
  db: Db;
  temporalUiUrl: string;
  namespace: string;
  /** Manual retry starts workflows; without it the retry routes answer 503. */
  retry?: RetryDeps;
}

export const retryBody = z.object({ ids: z.array(z.uuid()).min(1).max(500) }).strict();

function presentResourceData(row: ResourceDataRow) {
  return {
    attempt: row.attempt,
    entityType: row.entity_type,
    entityId: row.entity_id,
    downloadedAt: row.downloaded_at,
    resourceUpdatedAt: row.resource_updated_at,
    resourceVersion: row.resource_version,
    data: row.data,
  };
}

export function presentIncomingWebhook(row: IncomingWebhookRow, deps: Deps) {
  return {
    id: row.id,
    integrationId: row.integration_id,
    provider: row.provider,
    deliveryKey: row.delivery_key,
    eventType: row.event_type,
    entityType: row.entity_type,
    entityId: row.entity_id,
    tenantId: (row as Partial<ProviderWebhookRow>).tenant_id ?? null,
    eventAt: (row as Partial<ProviderWebhookRow>).event_at ?? null,
    manualRetries: (row as Partial<ProviderWebhookRow>).manual_retries ?? 0,
    processingMethod: row.processing_method,
    status: row.status,
    attemptsMade: row.attempts_made,
    attemptsAllowed: row.attempts_allowed,
    automaticAttemptsRemaining:
      row.status === 'succeeded' || row.status === 'stale' ? 0 : Math.max(0, row.attempts_allowed - row.attempts_made),
    error: row.error,
    receivedAt: row.received_at,
    processedAt: row.processed_at,
    workflowId: row.workflow_id,
    workflowUrl: workflowLink(deps.temporalUiUrl, deps.namespace, row.workflow_id),
  };
}

function presentInboundRequest(row: InboundRequestRow) {
  return {
    id: row.id,
    integrationId: row.integration_id,
    provider: row.provider,
    method: row.method,
    path: row.path,
    headers: row.headers,
    body: row.body,
    bodyBytes: row.body_bytes,
    remoteAddr: row.remote_addr,
    receivedAt: row.received_at,
    durationMs: row.duration_ms,
    responseStatus: row.response_status,
    responseBody: row.response_body,
    outcome: row.outcome,
    note: row.note,
    incomingWebhookId: row.incoming_webhook_id,
    mailboxId: row.mailbox_id,
  };
}

/** The incoming webhook log across integrations, one webhook's details and attempts. */
export function incomingWebhooksRouter(deps: Deps): Router {
  const { db } = deps;
  const router = express.Router();

  router.get('/', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'query');
    const filter = { integrationId: q.integrationId, status: q.status, provider: q.provider, entityId: q.entityId };
    const read = (page: Page) => listIncomingWebhooks(db, { ...filter, ...timeWindow(q), ...page });
    res.json(await listPage(q, 'uuid', read, (r) => presentIncomingWebhook(r, deps)));
  });

  router.get('/summary', async (req, res) => {
    const q = parseOr400(z.object({ integrationId: z.uuid().optional() }).strict(), req.query, 'query');
    const byStatus = await countIncomingWebhooksByStatus(db, q.integrationId);
    res.json({ total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus });
  });

  const retryDeps = () => {
    if (!deps.retry) throw new HttpError(503, 'retry_unavailable', 'Manual retry is not configured on this server');
    return deps.retry;
  };

  // Bulk retry of selected webhooks: 202 with one outcome per id (queued, not_found, not_retryable).
  router.post('/retry', async (req, res) => {
    const body = parseOr400(retryBody, req.body);
    const results = await retryWebhooks(retryDeps(), body.ids);
    res.status(202).json({ queued: results.filter((r) => r.outcome === 'queued').length, data: results });
  });

  router.post('/:id/retry', async (req, res) => {
    const id = parseOr400(z.uuid(), req.params.id, 'incoming webhook id');
    const [result] = await retryWebhooks(retryDeps(), [id]);
    if (result!.outcome === 'not_found')
      throw new HttpError(404, 'incoming_webhook_not_found', `No incoming webhook ${id}`);
    if (result!.outcome === 'not_retryable')
      throw new HttpError(409, 'not_retryable', result!.reason, { status: result!.status });
    res.status(202).json(result);
  });

  router.get('/:id/resource-data', async (req, res) => {
    const id = parseOr400(z.uuid(), req.params.id, 'incoming webhook id');
    if (!(await getIncomingWebhook(db, id)))
      throw new HttpError(404, 'incoming_webhook_not_found', `No incoming webhook ${id}`);
    res.json({ data: (await listResourceData(db, id)).map(presentResourceData) });
  });

  router.get('/:id', async (req, res) => {
    const id = parseOr400(z.uuid(), req.params.id, 'incoming webhook id');
    const row = await getIncomingWebhook(db, id);
    if (!row) throw new HttpError(404, 'incoming_webhook_not_found', `No incoming webhook ${id}`);
    const attempts = await listAttempts(db, id);
    const resources = await listResourceData(db, id);
    res.json({
      ...presentIncomingWebhook(row, deps),
      payload: row.payload,
      result: row.result,
      attempts: attempts.map((a) => ({
        attempt: a.attempt,
        execution: a.execution,
        rerun: a.rerun,
        status: a.status,
        startedAt: a.started_at,
        finishedAt: a.finished_at,
        error: a.error,
        log: a.log,
      })),
      resourceData: resources.map(presentResourceData),
    });
  });

  return router;
}

export const requestsQuery = z
  .object({
    integrationId: z.uuid().optional(),
    mailboxId: z.uuid().optional(),
    outcome: z.enum(['accepted', 'duplicate', 'rejected', 'ignored']).optional(),
    cursor: z.string().optional(),
    limit: limitSchema,
  })
  .strict();

/** "Integration inbound requests": every raw request with the answer it got. */
export function inboundRequestsRouter({ db }: { db: Db }): Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const q = parseOr400(requestsQuery, req.query, 'query');
    const filter = { integrationId: q.integrationId, mailboxId: q.mailboxId, outcome: q.outcome };
    res.json(
      await listPage(q, 'bigint', (page) => listInboundRequests(db, { ...filter, ...page }), presentInboundRequest),
    );
  });
  return router;
}
