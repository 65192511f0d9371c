import { randomUUID } from 'node:crypto';
import type { QuickBooksEmulator } from '../emulators/quickbooks';
import { buildQuickBooksLegacyPayload, buildXeroPayload, sendQuickBooksWebhook } from '../emulators/webhook-sender';
import type { XeroEmulator } from '../emulators/xero';
import { eventually, startStack, type Stack } from '../harness/stack';
import {
  allIn,
  countRows,
  createQuickBooksIntegration,
  createXeroIntegration,
  startQuickBooks,
  quickBooksConsent,
  sendXero,
  startXero,
  VERIFIER_TOKEN,
  webhookIn,
  XERO_CLIENT,
  xeroConsent,
} from './incoming-helpers';

/** Issue 13's provider gaps: QuickBooks merges and CDC catch-up, Xero's remaining-limit headers. */
const REALM = '4620816365260001';
const TENANT = randomUUID();
let stack: Stack;
let qbo: QuickBooksEmulator;
let qboToken: string;
let xero: XeroEmulator;
let xeroToken: string;

beforeAll(async () => {
  ({ qbo, refreshToken: qboToken } = await startQuickBooks(REALM));
  ({ xero, refreshToken: xeroToken } = await startXero(TENANT));
  stack = await startStack({ RATE_LIMIT_REQUESTS: '0' });
});
afterAll(async () => {
  await stack?.stop();
  await qbo?.stop();
  await xero?.stop();
});

const qboHook = (id: string) => `${stack.apiUrl}/hooks/quickbooks/${id}`;
const eventOf = async (id: string) =>
  (await stack.db.query('SELECT type, object_id, data FROM events WHERE id = $1', [id])).rows[0];

test('QuickBooks merge: the survivor is refreshed (client.updated), the merged-away customer is deleted naming the survivor (client.deleted)', async () => {
  const integration = await createQuickBooksIntegration(stack, qbo, qboToken, {
    settings: { entityTypes: ['Customer'] },
  });
  const survivor = qbo.upsertCustomer(REALM, { DisplayName: 'Acme Ltd', Balance: 10 });
  const duplicate = qbo.upsertCustomer(REALM, { DisplayName: 'ACME Limited', Balance: 5 });
  const merged = qbo.mergeCustomers(REALM, duplicate.Id, survivor.Id);
  const res = await sendQuickBooksWebhook(
    qboHook(integration.id),
    buildQuickBooksLegacyPayload(REALM, [
      { name: 'Customer', id: survivor.Id, operation: 'Merge', deletedId: duplicate.Id },
    ]),
    VERIFIER_TOKEN,
  );
  expect(res.status).toBe(200);
  const { ids } = JSON.parse(res.body) as { ids: string[] };
  expect(ids).toHaveLength(2);
  const [kept, gone] = await Promise.all(ids.map((id) => webhookIn(stack, id, ['succeeded', 'failed'])));
  expect(kept).toMatchObject({ status: 'succeeded', entityId: survivor.Id, eventType: 'Customer.Merge' });
  expect(gone).toMatchObject({ status: 'succeeded', entityId: duplicate.Id, eventType: 'Customer.Delete' });

  const updated = await eventOf(kept.result.event.id);
  expect(updated).toMatchObject({ type: 'client.updated', object_id: survivor.Id });
  expect(kept.resourceData[0].data.SyncToken).toBe(merged.SyncToken);
  const deleted = await eventOf(gone.result.event.id);
  expect(deleted).toMatchObject({ type: 'client.deleted', object_id: duplicate.Id });
  expect(deleted.data.linked).toEqual({ mergedInto: { id: survivor.Id } });
  const entity = await stack.db.query(
    'SELECT deleted, data FROM provider_entities WHERE integration_id = $1 AND entity_id = $2',
    [integration.id, duplicate.Id],
  );
  expect(entity.rows[0]).toEqual({ deleted: true, data: { mergedInto: survivor.Id } });
});

test('QuickBooks CDC catch-up after a gap: missed changes are processed once; a second catch-up emits nothing new', async () => {
  // Each integration rotates its own refresh token, so each gets its own consent.
  const integration = await createQuickBooksIntegration(stack, qbo, await quickBooksConsent(qbo, REALM));
  const seen = qbo.upsertInvoice(REALM, { TotalAmt: 100 });
  const first = await sendQuickBooksWebhook(
    qboHook(integration.id),
    buildQuickBooksLegacyPayload(REALM, [
      { name: 'Invoice', id: seen.Id, operation: 'Create', lastUpdated: new Date() },
    ]),
    VERIFIER_TOKEN,
  );
  await webhookIn(stack, JSON.parse(first.body).ids[0], ['succeeded']);

  // The webhook endpoint was unreachable for a while: these changes never arrived.
  const missed = qbo.upsertInvoice(REALM, { TotalAmt: 250 });
  const customer = qbo.upsertCustomer(REALM, { DisplayName: 'Late Customer' });
  const doomed = qbo.upsertInvoice(REALM, { TotalAmt: 5 });
  qbo.deleteInvoice(REALM, doomed.Id);

  const bad = await stack.request('POST', `/api/v1/integrations/${integration.id}/catch-up`, { since: 'yesterday' });
  expect(bad.status).toBe(400);
  const caught = await stack.request('POST', `/api/v1/integrations/${integration.id}/catch-up`, { realmId: REALM });
  expect(caught.status).toBe(202);
  expect(caught.body).toMatchObject({ realmId: REALM, sinceClamped: false, moreAfter: null });
  const rows = await allIn(stack, caught.body.ids, ['succeeded', 'stale', 'failed']);
  const byEntity = new Map(rows.map((r) => [r.entity_id, r.status]));
  expect(byEntity.get(missed.Id)).toBe('succeeded');
  expect(byEntity.get(customer.Id)).toBe('succeeded');
  expect(byEntity.get(doomed.Id)).toBe('succeeded');
  // The change the webhook already brought is recognised, not emitted again.
  expect(['stale', undefined]).toContain(byEntity.get(seen.Id));
  const events = await stack.db.query(
    "SELECT type, object_id FROM events WHERE source = 'quickbooks' AND object_id = ANY($1)",
    [[missed.Id, customer.Id, doomed.Id]],
  );
  expect(events.rows.map((e) => `${e.type} ${e.object_id}`).sort()).toEqual(
    [`invoice.created ${missed.Id}`, `client.created ${customer.Id}`, `invoice.deleted ${doomed.Id}`].sort(),
  );

  const eventsBefore = await countRows(stack, "SELECT count(*) AS n FROM events WHERE source = 'quickbooks'");
  const again = await stack.request('POST', `/api/v1/integrations/${integration.id}/catch-up`, {
    since: new Date(Date.now() - 3_600_000).toISOString(),
  });
  expect(again.status).toBe(202);
  await allIn(stack, again.body.ids, ['succeeded', 'stale', 'failed']);
  expect(await countRows(stack, "SELECT count(*) AS n FROM events WHERE source = 'quickbooks'")).toBe(eventsBefore);

  const notQbo = await createXeroIntegration(stack, xero, await xeroConsent(xero));
  expect((await stack.request('POST', `/api/v1/integrations/${notQbo.id}/catch-up`, {})).status).toBe(409);
});

test("Xero's X-MinLimit-Remaining moves the shared budget: calls made by others count against it", async () => {
  const integration = await createXeroIntegration(stack, xero, xeroToken, { name: 'budget follower' });
  // Another client of the same app spends 50 of the tenant's 60 calls this minute.
  const token = await fetch(`${xero.url}/connect/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${XERO_CLIENT.clientId}:${XERO_CLIENT.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  }).then((r) => r.json() as Promise<{ access_token: string }>);
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${xero.url}/api.xro/2.0/Contacts`, {
      headers: { authorization: `Bearer ${token.access_token}`, 'xero-tenant-id': TENANT },
    });
    expect(r.status).toBe(200);
  }
  const invoice = xero.upsertInvoice(TENANT, { Total: 1 });
  const res = await sendXero(
    stack,
    integration.id,
    buildXeroPayload([
      { resourceId: invoice.InvoiceID, tenantId: TENANT, eventCategory: 'INVOICE', eventType: 'UPDATE' },
    ]),
  );
  await webhookIn(stack, res.ids[0]!, ['succeeded']);
  // Xero said 9 calls were left after ours: the budget now counts the 51 calls of this minute.
  const key = `xero:${XERO_CLIENT.clientId}:${TENANT}`;
  await eventually(
    async () =>
      (await countRows(
        stack,
        "SELECT count(*) AS n FROM provider_rate_calls WHERE key = $1 AND at > now() - interval '1 minute'",
        [key],
      )) >= 51,
  );
});
