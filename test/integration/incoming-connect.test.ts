import { randomUUID } from 'node:crypto';
import { answerConsent } from '../emulators/oauth-consent';
import { startQuickBooksEmulator, type QuickBooksEmulator } from '../emulators/quickbooks';
import { buildQuickBooksLegacyPayload, buildXeroPayload, sendQuickBooksWebhook } from '../emulators/webhook-sender';
import { startXeroEmulator, type XeroEmulator } from '../emulators/xero';
import { freePort } from '../harness/free-port';
import { fetchJson, startStack, type Stack } from '../harness/stack';
import {
  QBO_CLIENT,
  sendXero,
  VERIFIER_TOKEN,
  WEBHOOK_KEY,
  webhookIn,
  XERO_CLIENT,
  xeroConnectSettings,
} from './incoming-helpers';

/**
 * "Connect to Xero / QuickBooks" through the admin API and the providers' consent pages (the
 * browser's part is played by plain HTTP here; test/integration/console-connect.test.ts clicks
 * through it in Chromium).
 */
const TENANT_A = randomUUID();
const TENANT_B = randomUUID();
const REALM = '9130357766181234';
let stack: Stack;
let xero: XeroEmulator;
let qbo: QuickBooksEmulator;

beforeAll(async () => {
  xero = await startXeroEmulator({
    clients: [{ ...XERO_CLIENT, name: 'Switchyard' }],
    tenants: [
      { tenantId: TENANT_A, name: 'Northwind Ltd' },
      { tenantId: TENANT_B, name: 'Contoso Ltd' },
    ],
  });
  qbo = await startQuickBooksEmulator({
    clients: [QBO_CLIENT],
    realms: [{ realmId: REALM, companyName: 'Sandbox Co' }],
  });
  const port = await freePort();
  stack = await startStack({
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    RATE_LIMIT_REQUESTS: '0',
  });
});
afterAll(async () => {
  await stack?.stop();
  await xero?.stop();
  await qbo?.stop();
});

async function createUnconnected(provider: 'xero' | 'quickbooks'): Promise<string> {
  const body =
    provider === 'xero'
      ? {
          provider,
          name: 'Xero (connect)',
          webhookKey: WEBHOOK_KEY,
          clientSecret: XERO_CLIENT.clientSecret,
          settings: xeroConnectSettings(xero),
        }
      : {
          provider,
          name: 'QuickBooks (connect)',
          verifierToken: VERIFIER_TOKEN,
          clientSecret: QBO_CLIENT.clientSecret,
          settings: {
            clientId: QBO_CLIENT.clientId,
            tokenUrl: `${qbo.url}/oauth2/v1/tokens/bearer`,
            apiBaseUrl: qbo.url,
            authorizeUrl: `${qbo.url}/connect/oauth2`,
            revocationUrl: `${qbo.url}/v2/oauth2/tokens/revoke`,
          },
        };
  const res = await stack.request('POST', '/api/v1/integrations', body);
  expect(res.status).toBe(201);
  return res.body.id;
}

/**
 * Starts the sign-in through the API and walks the consent page; returns the callback URL and the
 * consent cookie the start set (a browser would send it back with the callback).
 */
async function consent(integrationId: string, options: Parameters<typeof answerConsent>[1] = {}) {
  const started = await stack.request('POST', `/api/v1/integrations/${integrationId}/connect`, {});
  expect(started.status).toBe(200);
  const setCookie = started.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(
    /^switchyard_consent=[\w-]{43}; Max-Age=900; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
  );
  const cookie = setCookie.split(';')[0]!;
  const authorize = new URL(started.body.authorizeUrl);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('redirect_uri')).toBe(started.body.redirectUri);
  const { location } = await answerConsent(started.body.authorizeUrl, options);
  expect(location.startsWith(started.body.redirectUri)).toBe(true);
  return { url: location, cookie };
}

/** Opens a callback URL as the browser that started the sign-in (with its consent cookie). */
const openCallback = (c: { url: string; cookie: string }) =>
  fetchJson(c.url, { redirect: 'manual', headers: { cookie: c.cookie } });

test('Xero: consent for two organisations, choose one, process a webhook with the new tokens, then disconnect', async () => {
  const id = await createUnconnected('xero');
  expect((await stack.request('GET', `/api/v1/integrations/${id}/connection`)).body).toMatchObject({
    connected: false,
    method: null,
  });

  const callback = await consent(id);
  // Opened by anyone else (a forwarded link): refused, and the sign-in is still pending for its browser.
  const forwarded = await fetchJson(callback.url, { redirect: 'manual' });
  expect(forwarded.status).toBe(403);
  expect(forwarded.text).toMatch(/only works in the browser that started it/);
  const done = await openCallback(callback);
  expect(done.status).toBe(303);
  expect(done.headers.get('location')).toBe(`${stack.apiUrl}/console/#/integrations/${id}`);
  // The state is single-use.
  const replay = await openCallback(callback);
  expect(replay.status).toBe(400);
  expect(replay.text).toMatch(/unknown, already used or expired/);

  const status = await stack.request('GET', `/api/v1/integrations/${id}/connection`);
  expect(status.body).toMatchObject({ connected: true, method: 'connect', tenantChoiceNeeded: true, tenantId: null });
  const tenants = await stack.request('GET', `/api/v1/integrations/${id}/connection/tenants`);
  expect(tenants.body.data.map((t: { tenantName: string }) => t.tenantName).sort()).toEqual([
    'Contoso Ltd',
    'Northwind Ltd',
  ]);
  expect(
    (await stack.request('PUT', `/api/v1/integrations/${id}/connection/tenant`, { tenantId: randomUUID() })).status,
  ).toBe(400);
  const chosen = await stack.request('PUT', `/api/v1/integrations/${id}/connection/tenant`, { tenantId: TENANT_A });
  expect(chosen.status).toBe(200);
  expect(chosen.body.connection).toMatchObject({ connected: true, tenantChoiceNeeded: false, tenantId: TENANT_A });
  expect((await stack.request('GET', `/api/v1/integrations/${id}`)).body.settings.tenantIds).toEqual([TENANT_A]);

  // Tokens are stored encrypted: neither the access nor the refresh token is readable in the row.
  const row = await stack.db.query('SELECT tokens_enc, connected_at FROM provider_tokens WHERE integration_id = $1', [
    id,
  ]);
  expect(row.rows[0].connected_at).not.toBeNull();
  expect(row.rows[0].tokens_enc).not.toMatch(/access_token|refresh/i);

  const invoice = xero.upsertInvoice(TENANT_A, { Total: 99, Reference: 'connected' });
  const sent = await sendXero(
    stack,
    id,
    buildXeroPayload([
      { resourceId: invoice.InvoiceID, tenantId: TENANT_A, eventCategory: 'INVOICE', eventType: 'UPDATE' },
    ]),
  );
  expect(sent.status).toBe(200);
  const detail = await webhookIn(stack, sent.ids[0]!, ['succeeded', 'failed']);
  expect(detail).toMatchObject({ status: 'succeeded', entityId: invoice.InvoiceID });
  expect(detail.result.event.type).toBe('invoice.updated');
  // The other organisation was not chosen: its webhooks are ignored.
  const other = await sendXero(
    stack,
    id,
    buildXeroPayload([{ resourceId: randomUUID(), tenantId: TENANT_B, eventCategory: 'INVOICE', eventType: 'UPDATE' }]),
  );
  // Xero's bare 200; the request log says nothing was taken.
  expect([other.status, other.body, other.ids]).toEqual([200, '', []]);
  const logged = await stack.request('GET', `/api/v1/inbound-requests?integrationId=${id}&outcome=ignored`);
  expect(logged.body.data[0].note).toMatch(/0 new, 0 duplicates, 1 ignored/);

  const revocationsBefore = xero.stats().revocations;
  const off = await stack.request('POST', `/api/v1/integrations/${id}/disconnect`, {});
  expect(off.body).toMatchObject({ revoked: true });
  expect(xero.stats().revocations).toBe(revocationsBefore + 1);
  expect((await stack.request('GET', `/api/v1/integrations/${id}/connection`)).body).toMatchObject({
    connected: false,
  });
  expect(
    (await stack.db.query('SELECT count(*)::int AS n FROM provider_tokens WHERE integration_id = $1', [id])).rows[0].n,
  ).toBe(0);
});

test('QuickBooks: the realm comes from the callback; a webhook is processed; disconnect revokes', async () => {
  const id = await createUnconnected('quickbooks');
  const callback = await consent(id);
  expect(new URL(callback.url).searchParams.get('realmId')).toBe(REALM);
  expect((await openCallback(callback)).status).toBe(303);
  const status = await stack.request('GET', `/api/v1/integrations/${id}/connection`);
  expect(status.body).toMatchObject({ connected: true, method: 'connect', tenantId: REALM, tenantChoiceNeeded: false });
  expect((await stack.request('GET', `/api/v1/integrations/${id}`)).body.settings.realmIds).toEqual([REALM]);

  const invoice = qbo.upsertInvoice(REALM, { TotalAmt: 40 });
  const sent = await sendQuickBooksWebhook(
    `${stack.apiUrl}/hooks/quickbooks/${id}`,
    buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: invoice.Id, operation: 'Update' }]),
    VERIFIER_TOKEN,
  );
  expect(sent.status).toBe(200);
  const detail = await webhookIn(stack, JSON.parse(sent.body).ids[0], ['succeeded', 'failed']);
  expect(detail).toMatchObject({ status: 'succeeded', entityId: invoice.Id });

  const off = await stack.request('POST', `/api/v1/integrations/${id}/disconnect`, {});
  expect(off.body).toMatchObject({ revoked: true });
  expect(qbo.stats().revocations).toBe(1);
});

test('refused or forged callbacks: consent cancelled, unknown state, wrong provider; a pasted refresh token still works', async () => {
  const id = await createUnconnected('xero');
  const cancelled = await consent(id, { decision: 'deny' });
  const page = await openCallback(cancelled);
  expect(page.status).toBe(400);
  expect(page.text).toMatch(/access_denied/);
  expect(page.headers.get('content-security-policy')).toBe("default-src 'none'");

  // A forged state, even in a browser that has a consent cookie.
  const forged = await fetchJson(`${stack.apiUrl}/oauth/xero/callback?code=abc&state=${'x'.repeat(43)}`, {
    redirect: 'manual',
    headers: { cookie: cancelled.cookie },
  });
  expect(forged.status).toBe(400);
  // A state issued for Xero is not accepted on the QuickBooks callback.
  const xeroSignIn = await consent(id);
  const crossed = await openCallback({
    url: `${stack.apiUrl}/oauth/quickbooks/callback${new URL(xeroSignIn.url).search}&realmId=1`,
    cookie: xeroSignIn.cookie,
  });
  expect(crossed.status).toBe(400);
  expect((await stack.request('GET', `/api/v1/integrations/${id}/connection`)).body.connected).toBe(false);

  // Generic integrations have nothing to connect; a client-credentials one neither.
  const generic = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'g' });
  expect((await stack.request('POST', `/api/v1/integrations/${generic.body.id}/connect`, {})).status).toBe(409);

  // Scripts keep pasting refresh tokens.
  const code = xero.issueAuthorizationCode({ clientId: XERO_CLIENT.clientId, tenantIds: [TENANT_B] });
  const token = await fetch(`${xero.url}/connect/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${XERO_CLIENT.clientId}:${XERO_CLIENT.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
  }).then((r) => r.json() as Promise<{ refresh_token: string }>);
  const patched = await stack.request('PATCH', `/api/v1/integrations/${id}`, { refreshToken: token.refresh_token });
  expect(patched.status).toBe(200);
  expect((await stack.request('GET', `/api/v1/integrations/${id}/connection`)).body).toMatchObject({
    connected: true,
    method: 'refresh_token',
  });
  const invoice = xero.upsertInvoice(TENANT_B, { Total: 12 });
  const sent = await sendXero(
    stack,
    id,
    buildXeroPayload([
      { resourceId: invoice.InvoiceID, tenantId: TENANT_B, eventCategory: 'INVOICE', eventType: 'CREATE' },
    ]),
  );
  expect((await webhookIn(stack, sent.ids[0]!, ['succeeded', 'failed'])).status).toBe('succeeded');
});
