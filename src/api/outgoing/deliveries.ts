import express, { type Router } from 'express';
import { z } from 'zod';
import { batchItemsOf } from '../../outgoing/db/batch-items';
import { getDelivery, listAttempts, type AttemptRow, type DeliveryRow } from '../../outgoing/db/deliveries';
import { findEventType } from '../../outgoing/catalogue';
import { resendDelivery, type ServiceDeps } from '../../outgoing/resend';
import { laneWorkflowId } from '../../outgoing/workflow-contract';
import { HttpError, parseOr400 } from '../errors';

export interface DeliveryRouteDeps extends ServiceDeps {
  temporalUiUrl: string;
  namespace: string;
}

export const workflowUrl = (deps: DeliveryRouteDeps, workflowId: string) =>
  `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`;

/** A delivery as the deliveries log lists it. */
export function presentDelivery(d: DeliveryRow, deps: DeliveryRouteDeps) {
  return {
    id: d.id,
    webhookId: d.webhook_id,
    kind: d.event_id ? 'event' : 'batch',
    eventId: d.event_id,
    batchGroup: d.group_key,
    eventType: d.event_type,
    event: d.event_type ? (findEventType(d.event_type)?.name ?? d.event_type) : null,
    objectId: d.object_id,
    itemCount: d.item_count,
    status: d.status,
    lightweightLogs: d.lightweight,
    attemptCount: d.attempt_count,
    resendCount: d.resend_count,
    lastResponseStatus: d.last_response_status,
    lastError: d.last_error,
    nextAttemptAt: d.next_attempt_at,
    createdAt: d.created_at,
    finishedAt: d.finished_at,
    // Every delivery, including those of earlier versions, is sent by its webhook's lane.
    workflowId: laneWorkflowId(d.webhook_id),
    workflowUrl: workflowUrl(deps, laneWorkflowId(d.webhook_id)),
  };
}

function presentAttempt(a: AttemptRow) {
  return {
    attempt: a.attempt,
    status: a.status,
    startedAt: a.started_at,
    finishedAt: a.finished_at,
    durationMs: a.duration_ms,
    request: a.request,
    response:
      a.response_status === null
        ? null
        : {
            status: a.response_status,
            headers: a.response_headers,
            body: a.response_body,
            bodyTruncated: a.response_truncated,
          },
    error: a.error,
  };
}

const idParam = z.uuid({ error: 'must be a UUID' });

/** `GET /deliveries/:id` with its attempts, and `POST /deliveries/:id/resend`. */
export function deliveriesRouter(deps: DeliveryRouteDeps): Router {
  const { db } = deps;
  const router = express.Router();

  router.get('/:id', async (req, res) => {
    const id = parseOr400(idParam, req.params.id, 'delivery id');
    const d = await getDelivery(db, id);
    if (!d) throw new HttpError(404, 'delivery_not_found', `No delivery ${id}`);
    const [attempts, items] = await Promise.all([listAttempts(db, id), d.event_id ? [] : batchItemsOf(db, id)]);
    res.json({
      ...presentDelivery(d, deps),
      eventIds: d.event_id ? [d.event_id] : items.map((i) => i.event_id),
      payload: d.payload === null ? null : (JSON.parse(d.payload) as unknown),
      attempts: attempts.map(presentAttempt),
    });
  });

  router.post('/:id/resend', async (req, res) => {
    const id = parseOr400(idParam, req.params.id, 'delivery id');
    parseOr400(z.object({}).strict().optional(), req.body ?? undefined);
    const outcome = await resendDelivery(deps, id);
    if (!outcome.ok) throw new HttpError(outcome.refusal.status, outcome.refusal.code, outcome.refusal.message);
    res
      .status(202)
      .json({ ...presentDelivery(outcome.delivery, deps), message: 'Accepted: the delivery is being re-sent' });
  });

  return router;
}
