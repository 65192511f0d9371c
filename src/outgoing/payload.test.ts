import type { DomainEvent } from './event';
import { buildPayloadItem, envelopeUrl, withMessageId, type PayloadConfig } from './payload';

const ev: DomainEvent = {
  id: 'evt-1',
  type: 'ticket.changed',
  objectType: 'ticket',
  objectId: '1042',
  fields: {
    summary: 'Printer on fire',
    status: { id: 3, display: 'In Progress' },
    priority: { id: 1, display: 'P1' },
    details: 'Smoke everywhere',
  },
  linked: { client: { id: 7, name: 'Acme' } },
  previous: { status: { id: 1, display: 'New' } },
  occurredAt: '2026-01-01T00:00:00.000Z',
};
const ids = { itemId: 'item-1', webhookId: 'wh-1', messageId: 'msg-1' };
const build = (cfg: PayloadConfig) => buildPayloadItem(cfg, ev, ids);

const envelope = {
  id: 'item-1',
  notificationId: 'evt-1',
  messageId: 'msg-1',
  event: 'Ticket Changed',
  eventType: 'ticket.changed',
  webhookId: 'wh-1',
  objectId: '1042',
  timestamp: '2026-01-01T00:00:00.000Z',
};

test('every payload type carries the envelope', () => {
  for (const type of ['small', 'full', 'event_only', 'custom'] as const) {
    expect(build({ type, fields: [] })).toMatchObject(envelope);
  }
});

test('event information only is just the envelope', () => {
  expect(build({ type: 'event_only', fields: [] })).toEqual(envelope);
});

test('small object: key fields as display values', () => {
  expect(build({ type: 'small', fields: [] }).object).toEqual({
    id: '1042',
    summary: 'Printer on fire',
    status: 'In Progress',
    priority: 'P1',
  });
});

test('full object: every field as stored, linked objects and previous values', () => {
  const p = build({ type: 'full', fields: [] });
  expect(p.object).toEqual({ id: '1042', ...ev.fields });
  expect(p['linked']).toEqual(ev.linked);
  expect(p['previous']).toEqual(ev.previous);
});

test('custom: chosen fields, ids instead of display values where asked', () => {
  const p = build({
    type: 'custom',
    fields: [
      { field: 'status', sendId: true },
      { field: 'priority', sendId: false },
      { field: 'team', sendId: false },
    ],
  });
  expect(p.object).toEqual({ id: '1042', status: 3, priority: 'P1', team: null });
});

test('batch items get their message id later; GET sends the envelope as query parameters', () => {
  const item = buildPayloadItem({ type: 'small', fields: [] }, ev, { ...ids, messageId: null });
  expect(item.messageId).toBeNull();
  expect(withMessageId(item, 'batch-9').messageId).toBe('batch-9');
  const shuffled = Object.fromEntries(Object.entries(item).reverse()) as typeof item;
  expect(Object.keys(withMessageId(shuffled, 'b'))).toEqual(Object.keys(item));
  const url = new URL(envelopeUrl('https://example.com/hook?token=abc', build({ type: 'small', fields: [] })));
  expect(Object.fromEntries(url.searchParams)).toEqual({ token: 'abc', ...envelope });
});
