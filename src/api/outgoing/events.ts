import express, { type Router } from 'express';
import { z } from 'zod';
import { deliveriesForEvent } from '../../outgoing/db/deliveries';
import { getEvent } from '../../outgoing/db/events';
import { catalogueDocument, findEventType } from '../../outgoing/catalogue';
import { conditionOperatorCatalogue } from '../../outgoing/conditions';
import { emitEvent } from '../../outgoing/emit';
import { eventInputSchema } from '../../outgoing/event';
import { HttpError, parseOr400 } from '../errors';
import { presentDelivery, type DeliveryRouteDeps } from './deliveries';

/** `POST /events` (202 once durable) and `GET /events/:id` with the deliveries it went out in. */
export function eventsRouter(deps: DeliveryRouteDeps): Router {
  const router = express.Router();

  router.post('/', async (req, res) => {
    const body = parseOr400(eventInputSchema, req.body);
    if (!findEventType(body.type)) {
      throw new HttpError(
        400,
        'unknown_event_type',
        `type: "${body.type}" is not in the event catalogue (GET /api/v1/event-types)`,
      );
    }
    const { id, duplicate } = await emitEvent(deps, body);
    res.status(202).json({
      id,
      status: 'accepted',
      duplicate,
      message: duplicate ? 'Already accepted under this idempotency key' : 'Accepted: the event is being dispatched',
    });
  });

  router.get('/:id', async (req, res) => {
    const id = parseOr400(z.uuid({ error: 'must be a UUID' }), req.params.id, 'event id');
    const row = await getEvent(deps.db, id);
    if (!row) throw new HttpError(404, 'event_not_found', `No event ${id}`);
    const deliveries = await deliveriesForEvent(deps.db, id);
    res.json({
      id: row.id,
      type: row.type,
      name: findEventType(row.type)?.name ?? row.type,
      objectType: row.object_type,
      objectId: row.object_id,
      object: { fields: row.data.fields, linked: row.data.linked },
      previous: row.data.previous ?? null,
      idempotencyKey: row.idempotency_key,
      source: row.source,
      occurredAt: row.occurred_at,
      receivedAt: row.created_at,
      deliveries: deliveries.map((d) => presentDelivery(d, deps)),
    });
  });

  return router;
}

/** `GET /event-types`: the catalogue of events, their objects and fields, and the operators conditions may use. */
export function eventTypesRouter(): Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.json({ data: catalogueDocument(), conditionOperators: conditionOperatorCatalogue() });
  });
  return router;
}
