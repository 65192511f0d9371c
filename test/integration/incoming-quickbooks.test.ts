import type { QuickBooksEmulator } from '../emulators/quickbooks';
import {
  buildQuickBooksCloudEventsPayload,
  buildQuickBooksLegacyPayload,
  sendQuickBooksWebhook,
  signQuickBooks,
} from '../emulators/webhook-sender';
import { fetchJson, startStack, type Stack } from '../harness/stack';
import {
  allIn,
  countRows,
  createQuickBooksIntegration,
  quickBooksConsent,
  startQuickBooks,
  VERIFIER_TOKEN,
  webhookIn,
} from './incoming-helpers';

const REALM = '9130357766431234';
// QuickBooks stamps changes to the second; a frozen emulator clock puts every change in one second
// (its rate windows then never roll, so they are opened wide: limits are tested with Xero).
const FROZEN = Math.floor(Date.now() / 1000) * 1000 + 100;
let stack: Stack;
let qbo: QuickBooksEmulator;
let refreshToken: string;
let integration: { id: string };

beforeAll(async () => {
  ({ qbo, refreshToken } = await startQuickBooks(REALM, {
    now: () => FROZEN,
    limits: { perSecond: 1e6, perMinute: 1e6 },
  }));
  stack = await startStack({ INBOUND_BATCH_WAIT_SECONDS: '1', RATE_LIMIT_REQUESTS: '0' });
  integration = await createQuickBooksIntegration(stack, qbo, refreshToken);
});
afterAll(async () => {
  await stack?.stop();
  await qbo?.stop();
});
beforeEach(() => {
  qbo.clearFaults();
  qbo.resetStats();
});

const hookUrl = (id: string) => `${stack.apiUrl}/hooks/quickbooks/${id}`;
const idsOf = (res: { body: string }) => JSON.parse(res.body).ids as string[];

test('the legacy eventNotifications format is verified, answered fast and processed', async () => {
  const invoice = qbo.upsertInvoice(REALM, { TotalAmt: 420, DocNumber: 'QB-1001' });
  const res = await sendQuickBooksWebhook(
    hookUrl(integration.id),
    buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: invoice.Id, operation: 'Update' }]),
    VERIFIER_TOKEN,
  );
  expect(res.status).toBe(200);
  expect(res.durationMs).toBeLessThan(3000);
  const detail = await webhookIn(stack, idsOf(res)[0]!, ['succeeded', 'failed']);
  expect(detail).toMatchObject({
    status: 'succeeded',
    entityType: 'Invoice',
    entityId: invoice.Id,
    tenantId: REALM,
    eventType: 'Invoice.Update',
  });
  expect(detail.resourceData[0]).toMatchObject({
    entityId: invoice.Id,
    resourceVersion: expect.stringContaining('#0'),
  });
  expect(detail.result.event.type).toBe('invoice.updated');
  expect(qbo.stats().callsByEndpoint['GET /query']).toBe(1);
});

test('the CloudEvents format is accepted too, and the same change in both formats is one webhook', async () => {
  const customer = qbo.upsertCustomer(REALM, { DisplayName: 'Globex' });
  const at = new Date();
  const cloud = await sendQuickBooksWebhook(
    hookUrl(integration.id),
    buildQuickBooksCloudEventsPayload(REALM, [
      { name: 'Customer', id: customer.Id, operation: 'Create', lastUpdated: at },
    ]),
    VERIFIER_TOKEN,
  );
  expect(cloud.status).toBe(200);
  const legacy = await sendQuickBooksWebhook(
    hookUrl(integration.id),
    buildQuickBooksLegacyPayload(REALM, [{ name: 'Customer', id: customer.Id, operation: 'Create', lastUpdated: at }]),
    VERIFIER_TOKEN,
  );
  expect(JSON.parse(legacy.body)).toMatchObject({ accepted: 0, duplicates: 1, ids: idsOf(cloud) });
  const detail = await webhookIn(stack, idsOf(cloud)[0]!, ['succeeded', 'failed']);
  expect(detail.result.event.type).toBe('client.created');
  const event = await stack.db.query('SELECT data FROM events WHERE id = $1', [detail.result.event.id]);
  expect(event.rows[0].data.fields).toMatchObject({ name: 'Globex', inactive: false });
});

test('a deletion needs no download and emits "Invoice deleted"', async () => {
  const invoice = qbo.upsertInvoice(REALM, {});
  qbo.deleteInvoice(REALM, invoice.Id);
  const res = await sendQuickBooksWebhook(
    hookUrl(integration.id),
    buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: invoice.Id, operation: 'Delete' }]),
    VERIFIER_TOKEN,
  );
  const detail = await webhookIn(stack, idsOf(res)[0]!, ['succeeded', 'failed']);
  expect(detail.result.event.type).toBe('invoice.deleted');
  expect(qbo.stats().apiCalls).toBe(0);
});

test('delayed: a realm batch fetches 30 invoices per query; of two webhooks for one invoice the newest wins', async () => {
  const delayed = await createQuickBooksIntegration(stack, qbo, await quickBooksConsent(qbo, REALM), {
    processingMethod: 'service_delayed',
  });
  const invoices = Array.from({ length: 40 }, (_, i) => qbo.upsertInvoice(REALM, { TotalAmt: i + 1 }));
  const updated = qbo.upsertInvoice(REALM, { Id: invoices[0]!.Id, TotalAmt: 999 });
  expect(updated.SyncToken).toBe('1');
  // Two changes to one invoice within a second: both webhooks arrive, only the newest is processed.
  const payload = buildQuickBooksLegacyPayload(REALM, [
    ...invoices.map((i) => ({
      name: 'Invoice',
      id: i.Id,
      operation: 'Update' as const,
      lastUpdated: new Date(Date.now() - 500),
    })),
    { name: 'Invoice', id: invoices[0]!.Id, operation: 'Update', lastUpdated: new Date() },
  ]);
  const res = await sendQuickBooksWebhook(hookUrl(delayed.id), payload, VERIFIER_TOKEN);
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).message).toMatch(/deferred to the incoming webhook service/);
  const details = await allIn(stack, idsOf(res), ['succeeded', 'stale', 'failed']);
  expect(details.filter((d) => d.status === 'succeeded')).toHaveLength(40);
  const stale = details.filter((d) => d.status === 'stale');
  expect(stale).toHaveLength(1);
  expect(stale[0]!.entity_id).toBe(invoices[0]!.Id);
  // 40 distinct invoices at ≤ 30 ids per query.
  expect(qbo.stats().callsByEndpoint['GET /query']).toBe(2);
  const emitted = await stack.db.query("SELECT data FROM events WHERE object_id = $1 AND source = 'quickbooks'", [
    invoices[0]!.Id,
  ]);
  expect(emitted.rows.map((r) => r.data.fields.total)).toEqual([999]);
});

test('a second change in the same second is told apart by SyncToken and processed, not taken as stale', async () => {
  const first = qbo.upsertInvoice(REALM, { TotalAmt: 1 });
  const a = await sendQuickBooksWebhook(
    hookUrl(integration.id),
    buildQuickBooksLegacyPayload(REALM, [
      { name: 'Invoice', id: first.Id, operation: 'Create', lastUpdated: new Date(FROZEN) },
    ]),
    VERIFIER_TOKEN,
  );
  await webhookIn(stack, idsOf(a)[0]!, ['succeeded']);
  const second = qbo.upsertInvoice(REALM, { Id: first.Id, TotalAmt: 2 });
  expect(second.MetaData.LastUpdatedTime).toBe(first.MetaData.LastUpdatedTime);
  const b = await sendQuickBooksWebhook(
    hookUrl(integration.id),
    buildQuickBooksLegacyPayload(REALM, [
      { name: 'Invoice', id: first.Id, operation: 'Update', lastUpdated: new Date(FROZEN + 1) },
    ]),
    VERIFIER_TOKEN,
  );
  const detail = await webhookIn(stack, idsOf(b)[0]!, ['succeeded', 'stale', 'failed']);
  expect(detail.status).toBe('succeeded');
  expect(detail.resourceData[0].resourceVersion).toMatch(/#1$/);
  const totals = await stack.db.query(
    "SELECT type, data FROM events WHERE object_id = $1 AND source = 'quickbooks' ORDER BY created_at",
    [first.Id],
  );
  expect(totals.rows.map((r) => [r.type, r.data.fields.total])).toEqual([
    ['invoice.created', 1],
    ['invoice.updated', 2],
  ]);
});

test('refused: bad signature, malformed body, unknown integration — JSON errors, logged, nothing stored', async () => {
  const before = await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks', []);
  const body = JSON.stringify(buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: '1', operation: 'Update' }]));
  const post = (id: string, raw: string, sig: string) =>
    fetchJson(hookUrl(id), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'intuit-signature': sig },
      body: raw,
    });

  const forged = await post(integration.id, body, signQuickBooks(body, 'not-the-token'));
  expect([forged.status, forged.body.error.code]).toEqual([401, 'invalid_signature']);
  const malformed = await post(
    integration.id,
    '{"eventNotifications":',
    signQuickBooks('{"eventNotifications":', VERIFIER_TOKEN),
  );
  expect([malformed.status, malformed.body.error.code]).toEqual([400, 'malformed_json']);
  const injection = JSON.stringify(
    buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: "1') or ('1'='1", operation: 'Update' }]),
  );
  const invalid = await post(integration.id, injection, signQuickBooks(injection, VERIFIER_TOKEN));
  expect([invalid.status, invalid.body.error.code]).toEqual([400, 'invalid_payload']);
  const unknown = await post('6f1c1a53-0000-4000-8000-000000000000', body, signQuickBooks(body, VERIFIER_TOKEN));
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'unknown_integration']);

  expect(await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks', [])).toBe(before);
  const logged = await stack.db.query('SELECT outcome, response_status FROM inbound_requests ORDER BY id DESC LIMIT 4');
  expect(logged.rows.map((r) => [r.outcome, r.response_status])).toEqual([
    ['rejected', 404],
    ['rejected', 400],
    ['rejected', 400],
    ['rejected', 401],
  ]);
  expect(qbo.stats().apiCalls).toBe(0);
});

test('a request whose every entity is of an unconfigured type is answered 200, said to be ignored, and logged so', async () => {
  const before = await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [
    integration.id,
  ]);
  const res = await sendQuickBooksWebhook(
    hookUrl(integration.id),
    buildQuickBooksLegacyPayload(REALM, [{ name: 'Employee', id: '77', operation: 'Update' }]),
    VERIFIER_TOKEN,
  );
  expect(res.status).toBe(200);
  const body = JSON.parse(res.body);
  expect(body).toMatchObject({ status: 'ignored', received: 1, accepted: 0, ignored: 1, ids: [] });
  expect(body.message).toMatch(
    /^Ignored: none of the 1 entities is of a type \(or tenant\) this integration is configured for/,
  );
  const logged = await stack.request('GET', `/api/v1/inbound-requests?integrationId=${integration.id}&outcome=ignored`);
  expect(logged.body.data).toHaveLength(1);
  expect(
    await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [integration.id]),
  ).toBe(before);
});
