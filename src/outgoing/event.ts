import { z } from 'zod';
import { findEventType, type ObjectType } from './catalogue';
import type { Json } from './fields';

const jsonRecord = z.record(z.string().max(200), z.json());

/** A domain event as `POST /api/v1/events` and `emitEvent` accept it. */
export const eventInputSchema = z
  .object({
    type: z.string().trim().min(1).max(100),
    objectId: z.union([z.string().trim().min(1).max(200), z.number().int()]).transform(String),
    object: z
      .object({ fields: jsonRecord.default({}), linked: jsonRecord.default({}) })
      .strict()
      .default({ fields: {}, linked: {} }),
    previous: jsonRecord.optional(),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    idempotencyKey: z
      .string()
      .regex(/^[A-Za-z0-9._:@/-]{1,200}$/, { error: 'must be 1-200 of [A-Za-z0-9._:@/-]' })
      .optional(),
    source: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

export type EventInput = z.input<typeof eventInputSchema>;
export type ParsedEventInput = z.output<typeof eventInputSchema>;

/** An event as dispatch sees it once stored. */
export interface DomainEvent {
  id: string;
  type: string;
  objectType: ObjectType;
  objectId: string;
  fields: Record<string, Json>;
  linked: Record<string, Json>;
  previous?: Record<string, Json> | undefined;
  occurredAt: string;
}

export class UnknownEventTypeError extends Error {
  override name = 'UnknownEventTypeError';
}

/** Resolves the event type (key or display name) to its catalogue entry or throws. */
export function resolveEventType(type: string) {
  const def = findEventType(type);
  if (!def) throw new UnknownEventTypeError(`"${type}" is not in the event catalogue (GET /api/v1/event-types)`);
  return def;
}
