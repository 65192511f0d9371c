import type { DomainEvent } from '../event';
import type { Json } from '../fields';
import type { Queryable } from '../../platform/db/pool';

export interface EventRow {
  id: string;
  type: string;
  object_type: string;
  object_id: string;
  data: { fields: Record<string, Json>; linked: Record<string, Json>; previous?: Record<string, Json> };
  idempotency_key: string | null;
  source: string | null;
  /** The W3C traceparent of the request that emitted it, when tracing was on. */
  trace_parent: string | null;
  occurred_at: Date;
  created_at: Date;
}

export type NewEvent = Omit<EventRow, 'created_at'>;

/** Stores the event unless its idempotency key was seen; returns the stored row and whether it is new. */
export async function insertEvent(db: Queryable, e: NewEvent): Promise<{ row: EventRow; created: boolean }> {
  const inserted = await db.query<EventRow>(
    `INSERT INTO events (id, type, object_type, object_id, data, idempotency_key, source, occurred_at, trace_parent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
    [
      e.id,
      e.type,
      e.object_type,
      e.object_id,
      JSON.stringify(e.data),
      e.idempotency_key,
      e.source,
      e.occurred_at,
      e.trace_parent,
    ],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const { rows } = await db.query<EventRow>('SELECT * FROM events WHERE idempotency_key = $1', [e.idempotency_key]);
  return { row: rows[0]!, created: false };
}

export async function getEvent(db: Queryable, id: string): Promise<EventRow | undefined> {
  const { rows } = await db.query<EventRow>('SELECT * FROM events WHERE id = $1', [id]);
  return rows[0];
}

/** The row in the shape payload building and condition matching use. */
export function toDomainEvent(row: EventRow): DomainEvent {
  return {
    id: row.id,
    type: row.type,
    objectType: row.object_type as DomainEvent['objectType'],
    objectId: row.object_id,
    fields: row.data.fields,
    linked: row.data.linked,
    previous: row.data.previous,
    occurredAt: row.occurred_at.toISOString(),
  };
}
