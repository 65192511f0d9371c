import { randomUUID } from 'node:crypto';
import { insertEvent, toDomainEvent, type NewEvent } from './db/events';
import { submitEvent } from './event-intake';
import { inTransaction, isPool, type Queryable } from '../platform/db/pool';
import { insertIntakeJobs } from '../platform/intake/jobs';
import { laneWakeJobs } from './lane-starter';
import { eventInputSchema, resolveEventType, type EventInput } from './event';
import { lanesOwingEvent, planEvent } from './plan';
import { activeTraceparent, inSpan } from '../platform/tracing';

export interface EmitDeps {
  db: Queryable;
  /**
   * Wakes every process's intake starter after the commit (`IntakeWake`). Without it, or when
   * `db` is a caller's transaction, the outbox insert NOTIFYs on commit instead.
   */
  wake?: () => void;
}

export interface EmitResult {
  id: string;
  /** True when the idempotency key was seen before: the earlier event's id is returned. */
  duplicate: boolean;
}

/**
 * Emits a domain event to the outgoing webhooks: stores it, plans its deliveries and records
 * the wake of every lane it reached in one transaction (intake's outbox); the intake starter
 * signals the lanes. When it resolves the event and its deliveries are durable; Temporal is not
 * called. Usable from the API and from activities. Throws a ZodError for a malformed event and
 * UnknownEventTypeError for an unknown type.
 */
export async function emitEvent(deps: EmitDeps, event: EventInput): Promise<EmitResult> {
  const e = eventInputSchema.parse(event);
  const def = resolveEventType(e.type);
  return inSpan('event.commit', { attributes: { 'switchyard.event_type': def.key } }, () => commitEvent(deps, e, def));
}

async function commitEvent(
  deps: EmitDeps,
  e: ReturnType<typeof eventInputSchema.parse>,
  def: ReturnType<typeof resolveEventType>,
): Promise<EmitResult> {
  const newRow: NewEvent = {
    id: randomUUID(),
    type: def.key,
    object_type: def.objectType,
    object_id: e.objectId,
    data: { fields: e.object.fields, linked: e.object.linked, ...(e.previous ? { previous: e.previous } : {}) },
    idempotency_key: e.idempotencyKey ?? null,
    source: e.source ?? null,
    // Its deliveries are sent by a lane working for many events: each attempt joins this trace.
    trace_parent: activeTraceparent() ?? null,
    occurred_at: e.occurredAt ? new Date(e.occurredAt) : new Date(),
  };
  // Waking after the commit, rather than a NOTIFY inside it, keeps this commit out of
  // PostgreSQL's notify lock; only possible when this call owns the transaction (a wake before
  // someone else's commit would find nothing), otherwise the NOTIFY rides on their commit.
  const ownsWake = deps.wake !== undefined && isPool(deps.db);
  if (ownsWake && isPool(deps.db)) {
    // Under group commit with the events posted at the same time; a taken idempotency key
    // is left to the transaction below.
    const lanes = await submitEvent(deps.db, {
      row: newRow,
      event: toDomainEvent({ ...newRow, created_at: new Date() }),
    });
    if (lanes !== undefined) {
      if (lanes > 0) deps.wake!();
      return { id: newRow.id, duplicate: false };
    }
  }
  const { row, created, lanes } = await inTransaction(deps.db, async (tx) => {
    const stored = await insertEvent(tx, newRow);
    // A repeated event was planned with its first copy; waking again repairs a caller that
    // committed but died before the wake.
    const lanes = stored.created
      ? await planEvent(tx, toDomainEvent(stored.row))
      : await lanesOwingEvent(tx, stored.row.id);
    await insertIntakeJobs(tx, laneWakeJobs(lanes), ownsWake ? 'by-caller' : 'on-commit');
    return { ...stored, lanes };
  });
  if (ownsWake && lanes.length > 0) deps.wake!();
  return { id: row.id, duplicate: !created };
}
