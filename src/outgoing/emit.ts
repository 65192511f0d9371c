import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { insertEvent, toDomainEvent } from '../db/events';
import { inTransaction, type Queryable } from '../db/pool';
import { wakeLanes } from '../starters/webhook-lane';
import { eventInputSchema, resolveEventType, type EventInput } from './event';
import { lanesOwingEvent, planEvent } from './plan';

export interface EmitDeps {
  db: Queryable;
  temporal: Client;
  taskQueue: string;
}

export interface EmitResult {
  id: string;
  /** True when the idempotency key was seen before: the earlier event's id is returned. */
  duplicate: boolean;
}

/**
 * Emits a domain event to the outgoing webhooks: stores it and plans its deliveries in one
 * transaction, then wakes the lanes of the webhooks it reached. When it resolves the event
 * and its deliveries are durable. Usable from the API and from activities (pass
 * `Context.current().client` and the worker's task queue). Throws a ZodError for a malformed
 * event and UnknownEventTypeError for an unknown type.
 */
export async function emitEvent(deps: EmitDeps, event: EventInput): Promise<EmitResult> {
  const e = eventInputSchema.parse(event);
  const def = resolveEventType(e.type);
  const { row, created, lanes } = await inTransaction(deps.db, async (tx) => {
    const stored = await insertEvent(tx, {
      id: randomUUID(),
      type: def.key,
      object_type: def.objectType,
      object_id: e.objectId,
      data: { fields: e.object.fields, linked: e.object.linked, ...(e.previous ? { previous: e.previous } : {}) },
      idempotency_key: e.idempotencyKey ?? null,
      source: e.source ?? null,
      occurred_at: e.occurredAt ? new Date(e.occurredAt) : new Date(),
    });
    // A repeated event was planned with its first copy; waking again repairs a caller that
    // committed but died before the wake.
    const lanes = stored.created ? await planEvent(tx, toDomainEvent(stored.row)) : await lanesOwingEvent(tx, stored.row.id);
    return { ...stored, lanes };
  });
  await wakeLanes(deps, lanes);
  return { id: row.id, duplicate: !created };
}
