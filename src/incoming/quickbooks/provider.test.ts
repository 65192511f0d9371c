import {
  buildQuickBooksCloudEventsPayload,
  buildQuickBooksLegacyPayload,
  signQuickBooks,
} from '../../../test/emulators/webhook-sender';
import { InvalidWebhookBodyError } from '../inbound-event';
import { quickBooksEvents, verifyQuickBooksSignature } from './provider';

const REALM = '1234567890';
const at = new Date('2026-03-01T10:00:00.250Z');

test('legacy and CloudEvents bodies describe the same change with the same delivery key', () => {
  const legacy = quickBooksEvents(
    buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: '42', operation: 'Update', lastUpdated: at }]),
  );
  const cloud = quickBooksEvents(
    buildQuickBooksCloudEventsPayload(REALM, [{ name: 'Invoice', id: '42', operation: 'Update', lastUpdated: at }]),
  );
  expect(legacy).toHaveLength(1);
  expect(cloud).toHaveLength(1);
  expect(cloud[0]).toMatchObject({
    tenantId: REALM,
    entityType: 'Invoice',
    entityId: '42',
    eventType: 'Invoice.Update',
  });
  expect(cloud[0]!.deliveryKey).toBe(legacy[0]!.deliveryKey);
  const created = quickBooksEvents(
    buildQuickBooksCloudEventsPayload(REALM, [{ name: 'CreditMemo', id: '7', operation: 'Create' }]),
  );
  expect(created[0]).toMatchObject({ entityType: 'CreditMemo', eventType: 'CreditMemo.Create' });
});

test('the signature is base64 HMAC-SHA256 with the verifier token', () => {
  const raw = Buffer.from('{"eventNotifications":[]}');
  expect(verifyQuickBooksSignature(raw, signQuickBooks(raw, 'verifier'), 'verifier')).toBe(true);
  expect(verifyQuickBooksSignature(raw, signQuickBooks(raw, 'verifier'), 'other')).toBe(false);
});

test('ids that are not numeric never reach a query', () => {
  expect(() =>
    quickBooksEvents(
      buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: "1' or '1'='1", operation: 'Update' }]),
    ),
  ).toThrow(InvalidWebhookBodyError);
  expect(() => quickBooksEvents({ eventNotifications: [] })).toThrow(/eventNotifications/);
  expect(() => quickBooksEvents([{ specversion: '1.0', type: 'invoice.updated' }])).toThrow(InvalidWebhookBodyError);
});

test('a merge refreshes the survivor and deletes the merged-away entity, naming the survivor', () => {
  for (const body of [
    buildQuickBooksLegacyPayload(REALM, [
      { name: 'Customer', id: '5', operation: 'Merge', lastUpdated: at, deletedId: '9' },
    ]),
    buildQuickBooksCloudEventsPayload(REALM, [
      { name: 'Customer', id: '5', operation: 'Merge', lastUpdated: at, deletedId: '9' },
    ]),
  ]) {
    const events = quickBooksEvents(body);
    expect(events.map((e) => [e.entityId, e.eventType])).toEqual([
      ['5', 'Customer.Merge'],
      ['9', 'Customer.Delete'],
    ]);
    expect(JSON.parse(events[1]!.payload)).toMatchObject({ mergedInto: '5' });
    expect(events[1]!.deliveryKey).not.toBe(events[0]!.deliveryKey);
  }
});

test('event times that are not RFC 3339 (CloudEvents) or ISO 8601 with a zone (legacy) are a 400, not a stored 2001', () => {
  const cloud = (time: string) =>
    buildQuickBooksCloudEventsPayload(REALM, [{ name: 'Invoice', id: '42', operation: 'Update', lastUpdated: at }]).map(
      (e) => ({ ...e, time }),
    );
  for (const time of ['1', '2026-02-30T10:00:00Z', '2026-03-01T10:00:00', '2026-03-01T10:00:00-0700', 'yesterday']) {
    expect(() => quickBooksEvents(cloud(time))).toThrow(/time: must be an RFC 3339 date-time/);
  }
  expect(quickBooksEvents(cloud('2026-03-01T11:00:00.250+01:00'))[0]!.eventAt).toEqual(at);
  const legacy = (lastUpdated: string) => ({
    eventNotifications: [
      {
        realmId: REALM,
        dataChangeEvent: { entities: [{ name: 'Invoice', id: '42', operation: 'Update', lastUpdated }] },
      },
    ],
  });
  expect(() => quickBooksEvents(legacy('1'))).toThrow(/lastUpdated: must be an ISO 8601 date-time/);
  expect(quickBooksEvents(legacy('2026-03-01T03:00:00.250-0700'))[0]!.eventAt).toEqual(at);
});
