// The Xero provider in one place: how its webhooks are verified and read (the wire the
// ingress route uses) and how its API is called and its resources turned into events (the adapter).
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { safeEqual } from '../../platform/security/compare';
import { InvalidWebhookBodyError, isDateTime, parseJsonBody, type InboundProviderEvent } from '../inbound-event';
import type { ProviderWire } from '../provider-wire';
import type { XeroSettings } from './settings';
import { clientEvent, invoiceEvent, num, obj, str } from '../provider-events';
import {
  ProviderRequestError,
  type ProviderAdapter,
  type ProviderCaller,
  type ResourceVersion,
} from '../provider-types';

export const XERO_SIGNATURE_HEADER = 'x-xero-signature';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const XERO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z?$/;

// Provider bodies are read loosely: Xero may add fields, and refusing a delivery for an unknown
// field would make it retry for 24 hours and then disable the webhook.
const xeroEvent = z.looseObject({
  resourceUrl: z.string().max(2000),
  resourceId: z.string().regex(GUID, { error: 'must be a GUID' }),
  eventDateUtc: z
    .string()
    .regex(XERO_DATE, { error: 'must be a UTC date-time' })
    .refine((s) => isDateTime(asUtc(s)), { error: 'must be a valid date-time' }),
  eventType: z.string().regex(/^[A-Z_]{1,40}$/, { error: 'must be an upper-case event type' }),
  eventCategory: z.string().regex(/^[A-Z_]{1,40}$/, { error: 'must be an upper-case category' }),
  tenantId: z.string().regex(GUID, { error: 'must be a GUID' }),
  tenantType: z.string().max(40),
});

const xeroBody = z.looseObject({
  events: z.array(xeroEvent).max(5000),
  firstEventSequence: z.number().int(),
  lastEventSequence: z.number().int(),
  entropy: z.string().max(200),
});

export type XeroWebhookBody = z.output<typeof xeroBody>;

/** Xero writes `eventDateUtc` as UTC without a zone designator; JavaScript would read that as local time. */
const asUtc = (s: string) => (s.endsWith('Z') ? s : `${s}Z`);

/** base64(HMAC-SHA256(raw body, webhook key)) compared in constant time. */
export function verifyXeroSignature(raw: Buffer, given: string | undefined, webhookKey: string): boolean {
  if (!given) return false;
  const expected = createHmac('sha256', webhookKey).update(raw).digest('base64');
  return safeEqual(given.trim(), expected);
}

/** Validates a (verified) Xero body; throws InvalidWebhookBodyError for one Xero would never send. */
export function parseXeroBody(payload: unknown): XeroWebhookBody {
  const parsed = xeroBody.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new InvalidWebhookBodyError(
    'invalid_payload',
    `The body is not a Xero webhook: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    issues,
  );
}

/**
 * One stored webhook per event. The delivery key is the event's identity (tenant, category,
 * resource, type, time), so a redelivered body, or the same event in another body, dedupes.
 */
export function xeroEvents(body: XeroWebhookBody): InboundProviderEvent[] {
  return body.events.map((e) => {
    const eventAt = new Date(asUtc(e.eventDateUtc));
    const tenantId = e.tenantId.toLowerCase();
    const resourceId = e.resourceId.toLowerCase();
    return {
      tenantId,
      entityType: e.eventCategory,
      entityId: resourceId,
      eventType: `${e.eventCategory}.${e.eventType}`,
      eventAt,
      deliveryKey: [tenantId, e.eventCategory, resourceId, e.eventType, eventAt.toISOString()].join(':'),
      payload: JSON.stringify(e),
    };
  });
}

/** How Xero's webhooks are read: what the route hands to the provider intake. */
export const xeroWire: ProviderWire = {
  provider: 'xero',
  bareAnswers: true,
  verify: (raw, headers, key) => verifyXeroSignature(raw, headers[XERO_SIGNATURE_HEADER], key),
  events: (raw) => xeroEvents(parseXeroBody(parseJsonBody(raw))),
  wanted: (e, settings) => {
    const tenants = (settings as XeroSettings).tenantIds;
    return settings.entityTypes.includes(e.entityType) && (!tenants || tenants.includes(e.tenantId));
  },
};

/** Collection path and id field of each Xero category Switchyard fetches. */
export const XERO_COLLECTIONS: Record<string, { path: string; idField: string }> = {
  INVOICE: { path: 'Invoices', idField: 'InvoiceID' },
  CONTACT: { path: 'Contacts', idField: 'ContactID' },
  CREDITNOTE: { path: 'CreditNotes', idField: 'CreditNoteID' },
};

/** Reads Xero's `/Date(1700000000000+0000)/` API dates into epoch milliseconds. */
export function parseXeroDate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(value);
  if (m?.[1] !== undefined) return Number(m[1]);
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Fetches up to ~50 resources of one category in a single call (`GET /Invoices?IDs=a,b,c`).
 * Ids Xero does not return are simply missing from the map.
 */
export async function fetchXeroResources(
  call: ProviderCaller,
  tenantId: string,
  category: string,
  ids: string[],
): Promise<Map<string, Record<string, unknown>>> {
  const collection = XERO_COLLECTIONS[category];
  if (!collection) throw new ProviderRequestError(`Xero category ${category} cannot be fetched`);
  const res = await call({
    method: 'GET',
    path: `/${collection.path}`,
    query: { IDs: ids.join(',') },
    headers: { 'xero-tenant-id': tenantId, accept: 'application/json' },
  });
  if (res.status !== 200) {
    throw new ProviderRequestError(
      `Xero answered ${res.status} to GET ${collection.path}: ${res.body.slice(0, 300)}`,
      res.status,
    );
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    throw new ProviderRequestError(
      `Xero's answer to GET ${collection.path} is not JSON${res.bodyTruncated ? ' (truncated)' : ''}`,
    );
  }
  const list = body[collection.path];
  if (!Array.isArray(list)) throw new ProviderRequestError(`Xero's answer has no ${collection.path} list`);
  const out = new Map<string, Record<string, unknown>>();
  for (const item of list as Array<Record<string, unknown>>) {
    const id = item[collection.idField];
    if (typeof id === 'string') out.set(id.toLowerCase(), item);
  }
  return out;
}

const day = (v: unknown) => {
  const ms = parseXeroDate(v);
  return ms === undefined ? null : new Date(ms).toISOString().slice(0, 10);
};

/** Xero: GUID resources, `UpdatedDateUTC` to the millisecond, no sequence numbers. */
export const xeroAdapter: ProviderAdapter = {
  name: 'xero',
  timePrecisionMs: 0,
  fetchResources: fetchXeroResources,
  version(resource): ResourceVersion {
    const ms = parseXeroDate(resource['UpdatedDateUTC']) ?? 0;
    return { updatedAt: new Date(ms), seq: 0, label: new Date(ms).toISOString() };
  },
  operation: (eventType) =>
    eventType.endsWith('.CREATE') ? 'created' : eventType.endsWith('.DELETE') ? 'deleted' : 'updated',
  domainEvent(entityType, op, entityId, r) {
    if (entityType === 'INVOICE') {
      const contact = obj(r?.['Contact']);
      return invoiceEvent(
        op,
        entityId,
        r && {
          invoiceNumber: str(r['InvoiceNumber']),
          client: { id: str(contact['ContactID']), display: str(contact['Name']) },
          status: { id: str(r['Status']), display: str(r['Status']) },
          total: num(r['Total']),
          amountDue: num(r['AmountDue']),
          currency: str(r['CurrencyCode']),
          issueDate: day(r['Date']),
          dueDate: day(r['DueDate']),
        },
      );
    }
    if (entityType === 'CONTACT') {
      // A Xero contact is the service desk's client (the catalogue has no "contact" object).
      return clientEvent(op, entityId, r && { name: str(r['Name']), inactive: r['ContactStatus'] === 'ARCHIVED' });
    }
    // Credit notes are stored but the event catalogue has no object for them.
    return null;
  },
};
