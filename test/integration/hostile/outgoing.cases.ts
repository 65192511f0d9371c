import { api, type CorpusCase } from './corpus';
import { bytes, deep, INVALID_UTF8, J } from './payloads';

/** Hostile input to the webhooks and events API (the outgoing capability). */

/** An outgoing webhook for ticket changes; `over` replaces any part of it. */
export const webhook = (over: Record<string, unknown>) => ({
  name: 'hostile',
  url: 'https://receiver.example/hook',
  events: [{ type: 'Ticket Changed' }],
  ...over,
});
/** A ticket event; `over` replaces any part of it. */
export const event = (over: Record<string, unknown>) => ({
  type: 'Ticket Changed',
  objectId: 'T-1',
  object: { fields: { summary: 'x' } },
  ...over,
});

export const outgoingCases: CorpusCase[] = [
  // The webhooks API
  api({
    name: 'webhooks: URL on loopback',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://127.0.0.1:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: URL on [::1]',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://[::1]:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: IPv4-mapped loopback',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://[::ffff:127.0.0.1]:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: NAT64 loopback',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://[64:ff9b::7f00:1]:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: IPv4-compatible loopback',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://[::7f00:1]:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: 6to4 loopback',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://[2002:7f00:1::]:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: decimal loopback',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://2130706433:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: metadata address',
    path: '/api/v1/webhooks',
    body: J(webhook({ url: 'http://169.254.169.254/latest/meta-data' })),
    status: 400,
  }),
  api({
    name: 'webhooks: localhost',
    path: '/api/v1/webhooks',
    body: (f) => J(webhook({ url: `http://localhost:${f.probePort}/` })),
    status: 400,
  }),
  api({
    name: 'webhooks: CR/LF in a header-auth value',
    path: '/api/v1/webhooks',
    body: J(webhook({ authentication: { type: 'header', name: 'X-Key', value: 'a\r\nX-Evil: 1' } })),
    status: 400,
  }),
  api({
    name: 'webhooks: LF in a bearer token',
    path: '/api/v1/webhooks',
    body: J(webhook({ authentication: { type: 'bearer', token: 'a\nb' } })),
    status: 400,
  }),
  api({
    name: 'webhooks: NUL in a header-auth value',
    path: '/api/v1/webhooks',
    body: J(webhook({ authentication: { type: 'header', name: 'X-Key', value: 'a\u0000' } })),
    status: 400,
  }),
  api({
    name: 'webhooks: invalid UTF-8 name',
    path: '/api/v1/webhooks',
    body: bytes('{"name":"', INVALID_UTF8, '","url":"https://receiver.example/","events":[{"type":"Ticket Changed"}]}'),
    status: 400,
  }),
  api({
    name: 'webhooks: deep conditions',
    path: '/api/v1/webhooks',
    body: J(webhook({ events: [{ type: 'Ticket Changed', conditions: [deep(60)] }] })),
    status: 400,
  }),
  api({ name: 'webhooks: id not a uuid', path: '/api/v1/webhooks/%00', status: 400 }),
  // The events API
  api({
    name: 'events: NUL in objectId',
    path: '/api/v1/events',
    body: J(event({ objectId: 'T-\u0000' })),
    status: 400,
  }),
  api({
    name: 'events: deep object.fields',
    path: '/api/v1/events',
    body: `{"type":"Ticket Changed","objectId":"T-1","object":{"fields":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`,
    status: 400,
  }),
  api({
    name: 'events: fields nested past the limit',
    path: '/api/v1/events',
    body: J(event({ object: { fields: deep(40) } })),
    status: 400,
  }),
  api({
    name: 'events: invalid UTF-8 in a field',
    path: '/api/v1/events',
    body: bytes('{"type":"Ticket Changed","objectId":"T-1","object":{"fields":{"s":"', INVALID_UTF8, '"}}}'),
    status: 400,
  }),
  api({ name: 'events: unknown type', path: '/api/v1/events', body: J(event({ type: 'Evil' })), status: 400 }),
  api({
    name: 'events: occurredAt in year -200000',
    path: '/api/v1/events',
    body: J(event({ occurredAt: '-200000-01-01T00:00:00Z' })),
    status: 400,
  }),
  api({
    name: 'events: unpaired surrogate in a field',
    path: '/api/v1/events',
    body: '{"type":"Ticket Changed","objectId":"T-1","object":{"fields":{"s":"\\ud800"}}}',
    status: 400,
  }),
  api({ name: 'events: id not a uuid', path: '/api/v1/events/x', status: 400 }),
];
