import { ingress, type CorpusCase, type CorpusFixtures } from './corpus';
import { bytes, deep, deepText, INVALID_UTF8, J, NO_SUCH_ID } from './payloads';

/** Hostile input to the Xero and QuickBooks webhook ingress (the incoming capability's providers). */

const xeroPath = (f: CorpusFixtures) => `/hooks/xero/${f.xeroId}`;
const qboPath = (f: CorpusFixtures) => `/hooks/quickbooks/${f.qboId}`;

/** A well-formed Xero webhook with one invoice event; `over` replaces parts of the event. */
export const xeroEvent = (over: Record<string, unknown> = {}) => ({
  events: [
    {
      resourceUrl: 'https://api.xero.com/api.xro/2.0/Invoices/0b8b1d4e-1111-4b7c-9a5e-3a2f54d7c0a1',
      resourceId: '0b8b1d4e-1111-4b7c-9a5e-3a2f54d7c0a1',
      eventDateUtc: '2026-11-30T10:00:00.000',
      eventType: 'UPDATE',
      eventCategory: 'INVOICE',
      tenantId: 'c2f1e0d9-2222-4b7c-9a5e-3a2f54d7c0a1',
      tenantType: 'ORGANISATION',
      ...over,
    },
  ],
  firstEventSequence: 1,
  lastEventSequence: 1,
  entropy: 'ABCDEF',
});
const qboLegacy = (entity: Record<string, unknown> = {}) => ({
  eventNotifications: [
    {
      realmId: '1234567890',
      dataChangeEvent: {
        entities: [
          { name: 'Invoice', id: '42', operation: 'Update', lastUpdated: '2026-11-30T10:00:00.000Z', ...entity },
        ],
      },
    },
  ],
});
const qboCloud = (over: Record<string, unknown> = {}) => [
  {
    specversion: '1.0',
    id: 'evt-1',
    type: 'qbo.invoice.updated.v1',
    time: '2026-11-30T10:00:00Z',
    intuitentityid: '42',
    intuitaccountid: '1234567890',
    ...over,
  },
];

const XERO_BODY = J(xeroEvent());
const QBO_BODY = J(qboLegacy());

export const providerCases: CorpusCase[] = [
  // Xero
  ingress({ name: 'xero: unknown integration', path: `/hooks/xero/${NO_SUCH_ID}`, body: XERO_BODY, status: 404 }),
  ingress({
    name: 'xero: a generic integration id',
    path: (f) => `/hooks/xero/${f.generic.id}`,
    body: XERO_BODY,
    status: 404,
  }),
  ingress({
    name: 'xero: wrong signature',
    path: xeroPath,
    body: XERO_BODY,
    headers: { 'x-xero-signature': 'AAAA' },
    status: 401,
    envelope: 'none',
  }),
  ingress({ name: 'xero: no signature', path: xeroPath, body: XERO_BODY, status: 401, envelope: 'none' }),
  ingress({
    name: 'xero: invalid UTF-8',
    path: xeroPath,
    body: bytes('{"events":[],"entropy":"', INVALID_UTF8, '"}'),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: NUL in entropy',
    path: xeroPath,
    body: J({ ...xeroEvent(), entropy: 'a\u0000' }),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: deeply nested extra field',
    path: xeroPath,
    body: `{"events":[],"firstEventSequence":1,"lastEventSequence":1,"entropy":"x","extra":${deepText(30_000)}}`,
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: nested extra field past the limit',
    path: xeroPath,
    body: J({ ...xeroEvent(), extra: deep(40) }),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: too many events',
    path: xeroPath,
    body: J({ ...xeroEvent(), events: new Array(10_001).fill(0) }),
    sign: 'xero',
    status: 400,
  }),
  ingress({ name: 'xero: malformed JSON', path: xeroPath, body: '{"events":', sign: 'xero', status: 400 }),
  ingress({
    name: 'xero: events not an array',
    path: xeroPath,
    body: J({ ...xeroEvent(), events: 'x' }),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: year 0000',
    path: xeroPath,
    body: J(xeroEvent({ eventDateUtc: '0000-01-01T00:00:00' })),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: month 13',
    path: xeroPath,
    body: J(xeroEvent({ eventDateUtc: '2026-13-45T00:00:00' })),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: tenant not a GUID',
    path: xeroPath,
    body: J(xeroEvent({ tenantId: 'x' })),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: NUL in the resource id',
    path: xeroPath,
    body: J(xeroEvent({ resourceId: '\u0000' })),
    sign: 'xero',
    status: 400,
  }),
  ingress({
    name: 'xero: unpaired surrogate',
    path: xeroPath,
    body: '{"events":[],"entropy":"\\udc00"}',
    sign: 'xero',
    status: 400,
  }),
  ingress({ name: 'xero: missing fields', path: xeroPath, body: '{"events":[{}]}', sign: 'xero', status: 400 }),
  // QuickBooks
  ingress({
    name: 'quickbooks: unknown integration',
    path: `/hooks/quickbooks/${NO_SUCH_ID}`,
    body: QBO_BODY,
    status: 404,
  }),
  ingress({
    name: 'quickbooks: wrong signature',
    path: qboPath,
    body: QBO_BODY,
    headers: { 'intuit-signature': 'AAAA' },
    status: 401,
  }),
  ingress({
    name: 'quickbooks: lastUpdated in year -200000',
    path: qboPath,
    body: J(qboLegacy({ lastUpdated: '-200000-01-01T00:00:00Z' })),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: lastUpdated in year +275000',
    path: qboPath,
    body: J(qboLegacy({ lastUpdated: '+275000-01-01T00:00:00Z' })),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: lastUpdated in year 0001',
    path: qboPath,
    body: J(qboLegacy({ lastUpdated: '0001-01-01T00:00:00Z' })),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: CloudEvent time in year -200000',
    path: qboPath,
    body: J(qboCloud({ time: '-200000-01-01T00:00:00Z' })),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: NUL in the entity name',
    path: qboPath,
    body: J(qboLegacy({ name: 'Inv\u0000oice' })),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: invalid UTF-8 in a CloudEvent',
    path: qboPath,
    body: bytes('[{"specversion":"', INVALID_UTF8, '"}]'),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: deep nesting',
    path: qboPath,
    body: `{"eventNotifications":${deepText(30_000)}}`,
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({ name: 'quickbooks: malformed JSON', path: qboPath, body: '[{', sign: 'quickbooks', status: 400 }),
  ingress({
    name: 'quickbooks: no notifications',
    path: qboPath,
    body: '{"eventNotifications":[]}',
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: realm not numeric',
    path: qboPath,
    body: J({ eventNotifications: [{ realmId: 'x', dataChangeEvent: { entities: [] } }] }),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({
    name: 'quickbooks: CloudEvent with a bad type',
    path: qboPath,
    body: J(qboCloud({ type: 'evil' })),
    sign: 'quickbooks',
    status: 400,
  }),
  ingress({ name: 'quickbooks: empty array', path: qboPath, body: '[]', sign: 'quickbooks', status: 400 }),
  ingress({ name: 'quickbooks: empty object', path: qboPath, body: '{}', sign: 'quickbooks', status: 400 }),
];
