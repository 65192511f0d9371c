import { buildXeroIntentToReceive, buildXeroPayload, signXero } from '../../../test/emulators/webhook-sender';
import { InvalidWebhookBodyError } from '../inbound-event';
import { parseXeroBody, verifyXeroSignature, xeroEvents } from './provider';

const KEY = 'webhook-key';
const TENANT = '0e5a0a5c-7f0a-4b58-9a3c-2f0c6c1f9e11';
const INVOICE = 'B0B2C5D1-1111-4222-8333-944455556666';

test('the signature is base64 HMAC-SHA256 of the raw bytes with the webhook key', () => {
  const raw = Buffer.from(JSON.stringify(buildXeroIntentToReceive()));
  expect(verifyXeroSignature(raw, signXero(raw, KEY), KEY)).toBe(true);
  expect(verifyXeroSignature(raw, signXero(raw, 'other'), KEY)).toBe(false);
  expect(verifyXeroSignature(raw, undefined, KEY)).toBe(false);
  expect(verifyXeroSignature(Buffer.concat([raw, Buffer.from(' ')]), signXero(raw, KEY), KEY)).toBe(false);
});

test('eventDateUtc without a zone is UTC, and the delivery key is the event identity', () => {
  const body = parseXeroBody(
    buildXeroPayload([
      {
        resourceId: INVOICE,
        tenantId: TENANT,
        eventCategory: 'INVOICE',
        eventType: 'UPDATE',
        eventDateUtc: '2026-09-28T01:15:39.902',
      },
    ]),
  );
  const [event] = xeroEvents(body);
  expect(event).toMatchObject({
    tenantId: TENANT,
    entityType: 'INVOICE',
    entityId: INVOICE.toLowerCase(),
    eventType: 'INVOICE.UPDATE',
    deliveryKey: `${TENANT}:INVOICE:${INVOICE.toLowerCase()}:UPDATE:2026-09-28T01:15:39.902Z`,
  });
  expect(event!.eventAt.toISOString()).toBe('2026-09-28T01:15:39.902Z');
});

test('bodies that are not Xero webhooks are refused with the offending field', () => {
  expect(() => parseXeroBody({ events: [{ resourceId: 'x' }] })).toThrow(InvalidWebhookBodyError);
  const event = buildXeroPayload([{ resourceId: INVOICE, tenantId: TENANT, eventCategory: 'INVOICE' }]).events[0];
  expect(() => parseXeroBody({ ...buildXeroIntentToReceive(), events: [{ ...event, tenantId: 'nope' }] })).toThrow(
    /events\.0\.tenantId/,
  );
  // Unknown extra fields are tolerated: Xero adds fields over time.
  expect(parseXeroBody({ ...buildXeroIntentToReceive(), somethingNew: 1 }).events).toEqual([]);
});
