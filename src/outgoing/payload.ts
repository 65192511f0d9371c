import { findEventType, OBJECT_FIELDS } from './catalogue';
import type { DomainEvent } from './event';
import { displayValue, idValue, type Json } from './fields';

export const PAYLOAD_TYPES = ['small', 'full', 'event_only', 'custom'] as const;
export type PayloadType = (typeof PAYLOAD_TYPES)[number];

export interface CustomField {
  field: string;
  /** Send a single-select's database id instead of its display text. */
  sendId: boolean;
}

export interface PayloadConfig {
  type: PayloadType;
  fields: CustomField[];
}

/** Every payload item starts with these, whatever its type (seeds 002/003). */
export interface Envelope {
  /** This item: stable per (webhook, event). */
  id: string;
  /** The domain event, shared by every webhook it reached. */
  notificationId: string;
  /** The HTTP message carrying the item: the delivery id and `webhook-id` header; shared by a batch. */
  messageId: string | null;
  event: string;
  eventType: string;
  webhookId: string;
  objectId: string;
  timestamp: string;
}

export type PayloadItem = Envelope & Record<string, Json>;

function objectBody(cfg: PayloadConfig, ev: DomainEvent): Record<string, Json> | undefined {
  switch (cfg.type) {
    case 'event_only':
      return undefined;
    case 'small': {
      const out: Record<string, Json> = { id: ev.objectId };
      for (const def of OBJECT_FIELDS[ev.objectType]) {
        if (def.key && def.name in ev.fields) out[def.name] = displayValue(ev.fields[def.name]);
      }
      return out;
    }
    case 'custom': {
      const out: Record<string, Json> = { id: ev.objectId };
      for (const f of cfg.fields)
        out[f.field] = f.sendId ? idValue(ev.fields[f.field]) : displayValue(ev.fields[f.field]);
      return out;
    }
    case 'full':
      return { id: ev.objectId, ...ev.fields };
  }
}

/** Builds one webhook's payload item for an event; `messageId` is filled in when the message is known. */
export function buildPayloadItem(
  cfg: PayloadConfig,
  ev: DomainEvent,
  ids: { itemId: string; webhookId: string; messageId: string | null },
): PayloadItem {
  const item: PayloadItem = {
    id: ids.itemId,
    notificationId: ev.id,
    messageId: ids.messageId,
    event: findEventType(ev.type)?.name ?? ev.type,
    eventType: ev.type,
    webhookId: ids.webhookId,
    objectId: ev.objectId,
    timestamp: ev.occurredAt,
  };
  const object = objectBody(cfg, ev);
  if (object) item['object'] = object;
  if (cfg.type === 'full') {
    item['linked'] = ev.linked;
    if (ev.previous) item['previous'] = ev.previous;
  }
  return item;
}

const ENVELOPE_KEYS = [
  'id',
  'notificationId',
  'messageId',
  'event',
  'eventType',
  'webhookId',
  'objectId',
  'timestamp',
] as const;

/**
 * A copy of the item stamped with the message (delivery) id that carries it. The envelope is
 * put back in front: items wait in jsonb, which does not keep key order.
 */
export function withMessageId(item: PayloadItem, messageId: string): PayloadItem {
  const out: Record<string, Json> = {};
  for (const k of ENVELOPE_KEYS) out[k] = k === 'messageId' ? messageId : item[k];
  for (const [k, v] of Object.entries(item)) if (!(k in out)) out[k] = v;
  return out as PayloadItem;
}

/** For GET webhooks: the envelope as query parameters, merged into the payload URL's own. */
export function envelopeUrl(payloadUrl: string, item: PayloadItem): string {
  const url = new URL(payloadUrl);
  for (const k of ENVELOPE_KEYS) {
    const v = item[k];
    if (v !== null && v !== undefined) url.searchParams.set(k, String(v));
  }
  return url.toString();
}
