import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { insertEvent } from '../db/events';
import type { Queryable } from '../db/pool';
import { eventInputSchema, resolveEventType, type EventInput } from './event';
import { startDispatchWorkflow } from './start';

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
 * Emits a domain event to the outgoing webhooks: stores it, then starts its dispatch
 * workflow (`dispatch:<eventId>`). When it resolves the event is durable. Usable from the
 * API and from activities (pass `Context.current().client` and the worker's task queue).
 * Throws a ZodError for a malformed event and UnknownEventTypeError for an unknown type.
 */
export async function emitEvent(deps: EmitDeps, event: EventInput): Promise<EmitResult> {
  const e = eventInputSchema.parse(event);
  const def = resolveEventType(e.type);
  const { row, created } = await insertEvent(deps.db, {
    id: randomUUID(),
    type: def.key,
    object_type: def.objectType,
    object_id: e.objectId,
    data: { fields: e.object.fields, linked: e.object.linked, ...(e.previous ? { previous: e.previous } : {}) },
    idempotency_key: e.idempotencyKey ?? null,
    source: e.source ?? null,
    occurred_at: e.occurredAt ? new Date(e.occurredAt) : new Date(),
  });
  // Starting again for a duplicate repairs a caller that stored the event but died before
  // the start; otherwise the workflow id makes it a no-op.
  await startDispatchWorkflow(deps, { id: row.id, type: row.type, objectId: row.object_id });
  return { id: row.id, duplicate: !created };
}
