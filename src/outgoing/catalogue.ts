/**
 * The event catalogue: which domain events exist, which object each carries and that
 * object's fields. Webhook configuration is validated against it (known events, known
 * fields, "send ID" only on single-select fields) and "small object" payloads use its key
 * fields. Seeds 001–003 name the events; MSPbots needs the ticket, site, user and invoice ones.
 */

export type FieldType = 'text' | 'number' | 'boolean' | 'date' | 'single_select' | 'multi_select';

export interface FieldDef {
  name: string;
  type: FieldType;
  /** Part of the "small object with key fields only" payload. */
  key?: boolean;
}

export type ObjectType = 'ticket' | 'site' | 'user' | 'client' | 'invoice' | 'webhook' | 'mailbox';

export interface EventTypeDef {
  /** Stable identifier used in the API and stored configuration. */
  key: string;
  /** Display name, as the service desk shows it ("Ticket Changed"). */
  name: string;
  objectType: ObjectType;
  description: string;
}

const f = (name: string, type: FieldType, key = false): FieldDef => (key ? { name, type, key } : { name, type });

export const OBJECT_FIELDS: Record<ObjectType, readonly FieldDef[]> = {
  ticket: [
    f('summary', 'text', true),
    f('details', 'text'),
    f('status', 'single_select', true),
    f('priority', 'single_select', true),
    f('ticketType', 'single_select', true),
    f('client', 'single_select', true),
    f('site', 'single_select', true),
    f('user', 'single_select'),
    f('agent', 'single_select', true),
    f('team', 'single_select', true),
    f('category', 'single_select'),
    f('tags', 'multi_select'),
    f('dateOccurred', 'date'),
    f('deadline', 'date'),
    f('slaBreached', 'boolean'),
  ],
  site: [
    f('name', 'text', true),
    f('client', 'single_select', true),
    f('phone', 'text'),
    f('address', 'text'),
    f('inactive', 'boolean'),
  ],
  user: [
    f('name', 'text', true),
    f('emailAddress', 'text', true),
    f('client', 'single_select', true),
    f('site', 'single_select', true),
    f('phone', 'text'),
    f('inactive', 'boolean'),
  ],
  client: [
    f('name', 'text', true),
    f('accountManager', 'single_select'),
    f('website', 'text'),
    f('inactive', 'boolean', true),
  ],
  invoice: [
    f('invoiceNumber', 'text', true),
    f('client', 'single_select', true),
    f('status', 'single_select', true),
    f('total', 'number', true),
    f('amountDue', 'number'),
    f('currency', 'text'),
    f('issueDate', 'date'),
    f('dueDate', 'date', true),
  ],
  webhook: [
    f('name', 'text', true),
    f('url', 'text', true),
    f('reason', 'text', true),
    f('consecutiveFailures', 'number'),
    f('disabledAt', 'date'),
  ],
  mailbox: [f('name', 'text', true), f('kind', 'text', true), f('message', 'text', true)],
};

const e = (key: string, name: string, objectType: ObjectType, description: string): EventTypeDef => ({
  key,
  name,
  objectType,
  description,
});

export const EVENT_TYPES: readonly EventTypeDef[] = [
  e('ticket.created', 'New Ticket Logged', 'ticket', 'A ticket was logged'),
  e('ticket.changed', 'Ticket Changed', 'ticket', 'Any field of a ticket changed'),
  e('ticket.reassigned', 'Ticket Reassigned', 'ticket', 'A ticket moved to another agent or team'),
  e('ticket.closed', 'Ticket Closed', 'ticket', 'A ticket was closed'),
  e('site.created', 'Site created', 'site', 'A site was created'),
  e('site.updated', 'Site updated', 'site', 'A site was updated'),
  e('site.deleted', 'Site deleted', 'site', 'A site was deleted'),
  e('user.created', 'User created', 'user', 'A user was created'),
  e('user.updated', 'User updated', 'user', 'A user was updated'),
  e('user.deleted', 'User deleted', 'user', 'A user was deleted'),
  e('client.created', 'Client created', 'client', 'A client was created'),
  e('client.updated', 'Client updated', 'client', 'A client was updated'),
  e('client.deleted', 'Client deleted', 'client', 'A client was deleted'),
  e('invoice.created', 'Invoice created', 'invoice', 'An invoice was created'),
  e('invoice.updated', 'Invoice updated', 'invoice', 'An invoice was updated'),
  e('invoice.deleted', 'Invoice deleted', 'invoice', 'An invoice was deleted'),
  e('webhook.disabled', 'Webhook disabled', 'webhook', 'An outgoing webhook was disabled automatically'),
  e(
    'mailbox.error',
    'Mailbox error',
    'mailbox',
    'A mailbox could not process mail, renew its subscription, or use its credentials',
  ),
];

const byKey = new Map(EVENT_TYPES.map((t) => [t.key, t]));
const byName = new Map(EVENT_TYPES.map((t) => [t.name.toLowerCase(), t]));

/** Finds an event type by key (`ticket.changed`) or display name (`Ticket Changed`, any case). */
export function findEventType(keyOrName: string): EventTypeDef | undefined {
  return byKey.get(keyOrName) ?? byName.get(keyOrName.trim().toLowerCase());
}

export function fieldDef(objectType: ObjectType, field: string): FieldDef | undefined {
  return OBJECT_FIELDS[objectType].find((d) => d.name === field);
}

/** The catalogue as `GET /api/v1/event-types` serves it. */
export function catalogueDocument() {
  return EVENT_TYPES.map((t) => ({ ...t, fields: OBJECT_FIELDS[t.objectType] }));
}
