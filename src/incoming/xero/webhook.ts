import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { safeEqual } from '../../platform/security/compare';
import { InvalidWebhookBodyError, isDateTime, parseJsonBody, type InboundProviderEvent } from '../inbound-event';
import type { ProviderWire } from '../provider-wire';
import type { XeroSettings } from './settings';

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
