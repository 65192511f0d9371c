import { createHash, createHmac, randomUUID } from 'node:crypto';
import { Agent, createServer, get } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerConsent } from '../oauth-consent';
import { parseMsDate, startXeroEmulator } from '.';
import type { XeroEmulator, XeroEmulatorOptions } from '.';
import {
  buildXeroIntentToReceive,
  buildXeroPayload,
  checkXeroIntentToReceive,
  deliverXeroWebhook,
  sendXeroWebhook,
  signXero,
} from '../webhook-sender';

const CLIENT = { clientId: 'app-client', clientSecret: 'app-secret', name: 'Switchyard Test' };
const TENANT = '5f8a1c2e-0b7d-4e31-9a44-1d2c3b4a5e6f';
const OTHER_TENANT = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

let emu: XeroEmulator;
let clock: number;

async function start(options: XeroEmulatorOptions = {}): Promise<XeroEmulator> {
  clock = T0;
  emu = await startXeroEmulator({
    clients: [CLIENT],
    tenants: [{ tenantId: TENANT, name: 'Demo Company (NZ)' }, { tenantId: OTHER_TENANT }],
    now: () => clock,
    ...options,
  });
  return emu;
}

afterEach(async () => {
  await emu.stop();
});

function basic(id = CLIENT.clientId, secret = CLIENT.clientSecret): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

async function tokenRequest(
  form: Record<string, string>,
  headers: Record<string, string> = { authorization: basic() },
) {
  const res = await fetch(`${emu.url}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function clientCredentialsToken(): Promise<string> {
  const { json } = await tokenRequest({ grant_type: 'client_credentials' });
  return String(json['access_token']);
}

async function codeTokens(): Promise<{ access: string; refresh: string }> {
  const code = emu.issueAuthorizationCode({ clientId: CLIENT.clientId, redirectUri: 'http://localhost/cb' });
  const { json } = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: 'http://localhost/cb' });
  return { access: String(json['access_token']), refresh: String(json['refresh_token']) };
}

async function api(
  path: string,
  token: string | undefined,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  const res = await fetch(`${emu.url}/api.xro/2.0/${path}`, {
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      'xero-tenant-id': TENANT,
      accept: 'application/json',
      ...headers,
    },
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  const json: unknown = text.startsWith('{') ? JSON.parse(text) : undefined;
  return {
    status: res.status,
    headers: res.headers,
    text,
    json,
    at: (...path: (string | number)[]) => dig(json, ...path),
  };
}

interface BulkResult {
  status: number;
  headers: IncomingHttpHeaders;
}

// Hundreds of calls in flight at once; a keep-alive pool keeps socket set-up from
// dominating the test's run time while the server still sees 64 concurrent callers.
async function bulk(count: number, path: string, token: string): Promise<BulkResult[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const { hostname, port } = new URL(emu.url);
  const one = (): Promise<BulkResult> =>
    new Promise((resolve, reject) => {
      const headers = { authorization: `Bearer ${token}`, 'xero-tenant-id': TENANT };
      get({ hostname, port, path: `/api.xro/2.0/${path}`, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      }).on('error', reject);
    });
  try {
    return await Promise.all(Array.from({ length: count }, one));
  } finally {
    agent.destroy();
  }
}

/** Walks into a parsed JSON answer; any missing step yields undefined. */
function dig(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[step] : undefined;
  }
  return current;
}

describe('Xero emulator: OAuth', () => {
  test('client credentials by Basic or body auth; wrong client is invalid_client', async () => {
    await start();
    const viaBasic = await tokenRequest({ grant_type: 'client_credentials' });
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.json).toMatchObject({ expires_in: 1800, token_type: 'Bearer', scope: expect.any(String) });
    expect(viaBasic.json['refresh_token']).toBeUndefined();

    const viaBody = await tokenRequest(
      { grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret },
      {},
    );
    expect(viaBody.status).toBe(200);

    const wrong = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic(CLIENT.clientId, 'nope') },
    );
    expect(wrong).toEqual({ status: 401, json: { error: 'invalid_client' } });
    expect((await tokenRequest({ grant_type: 'password' })).json).toEqual({ error: 'unsupported_grant_type' });
  });

  test('authorization codes are single use and bound to their redirect URI', async () => {
    await start();
    const code = emu.issueAuthorizationCode({ clientId: CLIENT.clientId, redirectUri: 'http://localhost/cb' });
    const wrongRedirect = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://evil/cb',
    });
    expect(wrongRedirect).toEqual({ status: 400, json: { error: 'invalid_grant' } });

    const code2 = emu.issueAuthorizationCode({ clientId: CLIENT.clientId });
    const first = await tokenRequest({ grant_type: 'authorization_code', code: code2 });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });
    expect((await tokenRequest({ grant_type: 'authorization_code', code: code2 })).status).toBe(400);
  });

  test('refresh tokens rotate; the previous one works for the grace period only', async () => {
    await start({ refreshTokenReuseGraceSeconds: 600 });
    const { refresh: r1 } = await codeTokens();

    const second = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 });
    expect(second.status).toBe(200);
    const r2 = String(second.json['refresh_token']);
    expect(r2).not.toBe(r1);

    clock += 599_000;
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 })).status).toBe(200);
    clock += 2_000;
    expect(await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 })).toEqual({
      status: 400,
      json: { error: 'invalid_grant' },
    });
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: r2 })).status).toBe(200);
    expect(emu.stats()).toMatchObject({
      tokenRefreshes: 3,
      tokenGrantsByType: { authorization_code: 1, refresh_token: 3 },
    });
  });

  test('unused refresh tokens die after their lifetime', async () => {
    await start({ refreshTokenTtlSeconds: 3600 });
    const { refresh } = await codeTokens();
    emu.advanceTime(3601_000);
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: refresh })).json).toEqual({
      error: 'invalid_grant',
    });
  });

  test('expired, missing and force-expired tokens get Xero 401 problems', async () => {
    await start({ accessTokenTtlSeconds: 60 });
    emu.addTenant(TENANT);
    const token = await clientCredentialsToken();
    expect((await api('Invoices', token)).status).toBe(200);

    clock += 60_000;
    const expired = await api('Invoices', token);
    expect(expired.status).toBe(401);
    expect(expired.json).toMatchObject({ Type: null, Title: 'Unauthorized', Status: 401 });
    expect(expired.at('Detail')).toMatch(/^TokenExpired: token expired at 03\/02\/2026 09:01:00$/);

    expect((await api('Invoices', undefined)).json).toMatchObject({
      Status: 401,
      Detail: 'AuthenticationUnsuccessful',
    });

    const fresh = await clientCredentialsToken();
    emu.expireAllTokens();
    expect((await api('Invoices', fresh)).status).toBe(401);
    expect(emu.stats().unauthorized).toBe(3);
  });

  test('xero-tenant-id must name a tenant the token may reach', async () => {
    await start();
    const { access } = await codeTokens();
    expect((await api('Invoices', access, { 'xero-tenant-id': randomUUID() })).status).toBe(403);
    const missing = await fetch(`${emu.url}/api.xro/2.0/Invoices`, { headers: { authorization: `Bearer ${access}` } });
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ Title: 'Forbidden', Status: 403 });

    // A custom connection bound to one organisation may omit the header.
    emu.registerClient({ clientId: 'custom', clientSecret: 'custom-secret', tenantIds: [TENANT] });
    const { json } = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic('custom', 'custom-secret') },
    );
    const custom = String(json['access_token']);
    const implicit = await fetch(`${emu.url}/api.xro/2.0/Invoices`, { headers: { authorization: `Bearer ${custom}` } });
    expect(implicit.status).toBe(200);
    expect((await api('Invoices', custom, { 'xero-tenant-id': OTHER_TENANT })).status).toBe(403);

    const connections = await fetch(`${emu.url}/connections`, { headers: { authorization: `Bearer ${custom}` } });
    expect(await connections.json()).toEqual([
      expect.objectContaining({ tenantId: TENANT, tenantType: 'ORGANISATION' }),
    ]);
  });
});

describe('Xero emulator: Connect (authorization code with PKCE)', () => {
  const REDIRECT = 'http://localhost:3000/oauth/xero/callback';
  const verifier = 'v'.repeat(43) + 'erifier-0123456789';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `${emu.url}/identity/connect/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT,
      scope: 'offline_access accounting.transactions',
      state: 'st-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).toString()}`;

  test('the consent page offers the organisations; the code needs the PKCE verifier; connections list the chosen ones', async () => {
    await start();
    const { location, page } = await answerConsent(authorizeUrl(), { choose: [TENANT] });
    expect(page).toContain('Allow access');
    expect(page).toContain('Demo Company (NZ)');
    const back = new URL(location);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code')!;

    const wrong = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: 'x'.repeat(43),
    });
    expect(wrong).toEqual({ status: 400, json: { error: 'invalid_grant' } });
    // The code was spent by the failed attempt, as a real server does.
    const again = await answerConsent(authorizeUrl(), { choose: [TENANT] });
    const code2 = new URL(again.location).searchParams.get('code')!;
    const missing = await tokenRequest({ grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT });
    expect(missing.status).toBe(400);
    const third = new URL((await answerConsent(authorizeUrl(), { choose: [TENANT] })).location).searchParams.get(
      'code',
    )!;
    const ok = await tokenRequest({
      grant_type: 'authorization_code',
      code: third,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(ok.status).toBe(200);

    const connections = await fetch(`${emu.url}/connections`, {
      headers: { authorization: `Bearer ${String(ok.json['access_token'])}` },
    });
    const list = (await connections.json()) as Array<{ id: string; tenantId: string }>;
    expect(list.map((c) => c.tenantId)).toEqual([TENANT]);
    expect(emu.stats()).toMatchObject({ consentsShown: 3, consentsAllowed: 3 });
  });

  test('cancel sends access_denied back with the state; a bad request never shows the page', async () => {
    await start();
    const denied = new URL((await answerConsent(authorizeUrl(), { decision: 'deny' })).location);
    expect(Object.fromEntries(denied.searchParams)).toEqual({ error: 'access_denied', state: 'st-1' });
    const badMethod = new URL((await answerConsent(authorizeUrl({ code_challenge_method: 'S512' }))).location);
    expect(badMethod.searchParams.get('error')).toBe('invalid_request');
    const unknown = await fetch(authorizeUrl({ client_id: 'nobody' }), { redirect: 'manual' });
    expect(unknown.status).toBe(400);
  });

  test('revocation ends the refresh token and every token of that consent', async () => {
    await start();
    const { access, refresh } = await codeTokens();
    const res = await fetch(`${emu.url}/connect/revocation`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refresh }).toString(),
    });
    expect(res.status).toBe(200);
    expect(emu.hasRefreshToken(refresh)).toBe(false);
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: refresh })).json).toEqual({
      error: 'invalid_grant',
    });
    expect((await fetch(`${emu.url}/connections`, { headers: { authorization: `Bearer ${access}` } })).status).toBe(
      401,
    );
    expect(emu.stats().revocations).toBe(1);
  });
});

describe('Xero emulator: Accounting API', () => {
  test('IDs batch fetch returns Xero-shaped invoices with rate headers', async () => {
    await start();
    const invoices = [1, 2, 3, 4].map((n) =>
      emu.upsertInvoice(TENANT, {
        Contact: { Name: `Customer ${n}` },
        LineItems: [{ Description: 'Work', Quantity: n, UnitAmount: 50, TaxAmount: 7.5 * n }],
      }),
    );
    const wanted = invoices.slice(0, 3).map((i) => i.InvoiceID);
    const token = await clientCredentialsToken();
    const res = await api(`Invoices?IDs=${wanted.join(',')}`, token);

    expect(res.status).toBe(200);
    expect(res.headers.get('x-minlimit-remaining')).toBe('59');
    expect(res.headers.get('x-daylimit-remaining')).toBe('4999');
    expect(res.headers.get('x-appminlimit-remaining')).toBe('9999');
    expect(res.json).toMatchObject({ Status: 'OK', ProviderName: 'Switchyard Test', Id: expect.any(String) });
    expect(res.at('DateTimeUTC')).toMatch(/^\/Date\(\d+\)\/$/);
    const body = res.at('Invoices') as Record<string, unknown>[];
    expect(body.map((i) => i['InvoiceID']).sort()).toEqual([...wanted].sort());
    const second = body.find((i) => i['InvoiceID'] === wanted[1]);
    expect(second).toMatchObject({
      Type: 'ACCREC',
      Status: 'AUTHORISED',
      InvoiceNumber: 'INV-0002',
      Contact: { ContactID: expect.any(String), Name: 'Customer 2' },
      SubTotal: 100,
      TotalTax: 15,
      Total: 115,
      AmountDue: 115,
      CurrencyCode: 'NZD',
      LineItems: [expect.objectContaining({ Quantity: 2, UnitAmount: 50, LineAmount: 100 })],
    });
    expect(parseMsDate(String(second?.['UpdatedDateUTC']))).toBeGreaterThanOrEqual(T0);
    expect(second?.['UpdatedDateUTC']).toMatch(/^\/Date\(\d+\+0000\)\/$/);
    expect(emu.stats()).toMatchObject({
      apiCalls: 1,
      apiCallsServed: 1,
      idsRequested: 3,
      callsByEndpoint: { 'GET /Invoices': 1 },
    });
  });

  test('contacts, credit notes and single-resource reads', async () => {
    await start();
    const contact = emu.upsertContact(TENANT, { Name: 'Ridgeway University', EmailAddress: 'ap@ridgeway.test' });
    const other = emu.upsertContact(TENANT, { Name: 'Other' });
    const credit = emu.upsertCreditNote(TENANT, { Contact: { ContactID: contact.ContactID }, Total: 40 });
    const invoice = emu.upsertInvoice(TENANT, { Contact: { ContactID: contact.ContactID }, InvoiceNumber: 'INV-0900' });
    const token = await clientCredentialsToken();

    const contacts = await api(`Contacts?ContactIDs=${contact.ContactID}`, token);
    expect(contacts.at('Contacts')).toEqual([
      expect.objectContaining({ Name: 'Ridgeway University', ContactStatus: 'ACTIVE' }),
    ]);
    const both = await api(`Contacts?IDs=${contact.ContactID},${other.ContactID}`, token);
    expect(both.at('Contacts')).toHaveLength(2);

    const credits = await api(`CreditNotes?IDs=${credit.CreditNoteID}`, token);
    expect(credits.at('CreditNotes')).toEqual([
      expect.objectContaining({
        Type: 'ACCRECCREDIT',
        Total: 40,
        RemainingCredit: 40,
        Contact: { ContactID: contact.ContactID, Name: 'Ridgeway University' },
      }),
    ]);

    expect((await api(`Invoices/${invoice.InvoiceID}`, token)).at('Invoices', 0, 'InvoiceNumber')).toBe('INV-0900');
    expect((await api('Invoices/INV-0900', token)).at('Invoices', 0, 'InvoiceID')).toBe(invoice.InvoiceID);
    expect((await api(`CreditNotes/${credit.CreditNoteID}`, token)).status).toBe(200);
    const missing = await api(`Invoices/${randomUUID()}`, token);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe("The resource you're looking for cannot be found");
  });

  test('over-long URLs get 414 from the gateway without spending quota; bad GUIDs get 400', async () => {
    await start();
    const token = await clientCredentialsToken();
    const ids = Array.from({ length: 60 }, () => randomUUID());
    const tooLong = await api(`Invoices?IDs=${ids.join(',')}`, token);
    expect(tooLong.status).toBe(414);
    const fits = await api(`Invoices?IDs=${ids.slice(0, 50).join(',')}`, token);
    expect(fits.status).toBe(200);
    expect(fits.headers.get('x-minlimit-remaining')).toBe('59');
    expect((await api('Invoices?IDs=not-a-guid', token)).status).toBe(400);
  });

  test('If-Modified-Since returns only later changes; a single read answers 304', async () => {
    await start();
    const a = emu.upsertInvoice(TENANT, {});
    clock += 10_000;
    const since = new Date(clock).toUTCString();
    clock += 1_000;
    const b = emu.upsertInvoice(TENANT, {});
    const token = await clientCredentialsToken();

    const changed = await api('Invoices', token, { 'if-modified-since': since });
    expect((changed.at('Invoices') as { InvoiceID: string }[]).map((i) => i.InvoiceID)).toEqual([b.InvoiceID]);
    const isoSince = new Date(clock - 500).toISOString().slice(0, 19);
    expect((await api('Invoices', token, { 'if-modified-since': isoSince })).at('Invoices')).toHaveLength(1);
    expect((await api(`Invoices/${a.InvoiceID}`, token, { 'if-modified-since': since })).status).toBe(304);

    clock += 1_000;
    emu.upsertInvoice(TENANT, { InvoiceID: a.InvoiceID, Status: 'PAID' });
    const updated = await api('Invoices', token, { 'if-modified-since': new Date(clock).toUTCString() });
    expect(updated.at('Invoices')).toEqual([
      expect.objectContaining({ InvoiceID: a.InvoiceID, Status: 'PAID', AmountDue: 0 }),
    ]);
  });

  test('paging reports Xero pagination metadata', async () => {
    await start();
    for (let i = 0; i < 5; i += 1) emu.upsertInvoice(TENANT, {});
    const token = await clientCredentialsToken();
    const page = await api('Invoices?page=3&pageSize=2', token);
    expect(page.at('pagination')).toEqual({ page: 3, pageSize: 2, pageCount: 3, itemCount: 5 });
    expect(page.at('Invoices')).toHaveLength(1);
    expect((await api('Invoices?page=0', token)).status).toBe(400);
  });
});

describe('Xero emulator: rate limits', () => {
  test('minute limit: 429 with Retry-After and problem, rejected calls cost nothing', async () => {
    await start({ limits: { perMinute: 3 } });
    const token = await clientCredentialsToken();
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i += 1) {
      clock += 1_000;
      remaining.push((await api('Invoices', token)).headers.get('x-minlimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await api('Invoices', token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-rate-limit-problem')).toBe('minute');
    expect(limited.headers.get('retry-after')).toBe('58');
    expect(limited.headers.get('x-minlimit-remaining')).toBe('0');
    expect((await api('Invoices', token)).status).toBe(429);

    clock += 58_000;
    const again = await api('Invoices', token);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-minlimit-remaining')).toBe('0');
    expect(again.headers.get('x-daylimit-remaining')).toBe(String(5000 - 4));
    expect(emu.stats().rateLimited).toEqual({ minute: 2, day: 0, concurrent: 0, appminute: 0 });
  });

  test('day limit outranks the minute window', async () => {
    await start({ limits: { perDay: 4, perMinute: 2 } });
    const token = await clientCredentialsToken();
    for (let i = 0; i < 4; i += 1) {
      expect((await api('Invoices', token)).status).toBe(200);
      clock += 60_000;
    }
    const limited = await api('Invoices', token);
    expect(limited.headers.get('x-rate-limit-problem')).toBe('day');
    expect(limited.headers.get('x-daylimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('retry-after'))).toBe(86_400 - 4 * 60);
    clock += 86_400_000;
    expect((await api('Invoices', await clientCredentialsToken())).status).toBe(200);
  });

  test('app-wide minute limit spans tenants', async () => {
    await start({ limits: { appPerMinute: 2 } });
    const token = await clientCredentialsToken();
    expect((await api('Invoices', token)).status).toBe(200);
    expect((await api('Invoices', token, { 'xero-tenant-id': OTHER_TENANT })).status).toBe(200);
    const limited = await api('Invoices', token, { 'xero-tenant-id': OTHER_TENANT });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-rate-limit-problem')).toBe('appminute');
    expect(limited.headers.get('x-appminlimit-remaining')).toBe('0');
  });

  test('concurrent limit counts in-flight calls per tenant', async () => {
    await start({ limits: { concurrent: 2 }, latencyMs: 150 });
    const token = await clientCredentialsToken();
    const results = await Promise.all([1, 2, 3].map(() => api('Invoices', token)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429]);
    const limited = results.find((r) => r.status === 429);
    expect(limited?.headers.get('x-rate-limit-problem')).toBe('concurrent');
    expect(limited?.headers.get('retry-after')).toBe('1');
    // Another tenant has its own gate.
    expect((await api('Invoices', token, { 'xero-tenant-id': OTHER_TENANT })).status).toBe(200);
    expect(emu.stats().maxConcurrencyByTenant[TENANT]).toBe(2);
    expect(emu.stats().rateLimited.concurrent).toBe(1);
  });

  test('an aborted call releases its concurrency slot', async () => {
    await start({ limits: { concurrent: 1 }, latencyMs: 10_000 });
    const token = await clientCredentialsToken();
    const controller = new AbortController();
    const pending = api('Invoices', token, {}, controller.signal).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    emu.setLatency(0);
    expect((await api('Invoices', token)).headers.get('x-rate-limit-problem')).toBe('concurrent');
    controller.abort();
    await pending;
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      status = (await api('Invoices', token)).status;
    }
    expect(status).toBe(200);
  });

  test('the minute window admits exactly its limit out of hundreds of simultaneous calls', async () => {
    await start({ limits: { perMinute: 200 } });
    const token = await clientCredentialsToken();
    const results = await bulk(600, 'Invoices', token);
    const served = results.filter((r) => r.status === 200);
    expect(served).toHaveLength(200);
    // Each admitted call saw a distinct remaining count: admission is atomic.
    const remaining = new Set(served.map((r) => r.headers['x-minlimit-remaining']));
    expect(remaining.size).toBe(200);
    expect(emu.stats().rateLimited.minute).toBe(400);
  }, 15_000);

  test('the concurrency gate never over-admits and gives every slot back', async () => {
    await start({ limits: { perMinute: 10_000, concurrent: 5 }, latencyMs: 5 });
    const token = await clientCredentialsToken();
    const results = await bulk(500, 'Invoices', token);
    const served = results.filter((r) => r.status === 200).length;
    const stats = emu.stats();
    expect(served).toBe(stats.apiCallsServed);
    expect(stats.rateLimited.concurrent).toBe(500 - served);
    expect(stats.maxConcurrencyByTenant[TENANT]).toBe(5);
    const after = await Promise.all(Array.from({ length: 5 }, () => api('Invoices', token)));
    expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  }, 15_000);
});

describe('Xero emulator: fault injection', () => {
  test('failNext answers the next n API calls with the given status, then recovers', async () => {
    await start();
    const token = await clientCredentialsToken();
    emu.failNext(2, 503);
    emu.failNext(1, 429, { retryAfter: 7, problem: 'day' });
    expect((await api('Invoices', token)).status).toBe(503);
    expect((await api('Invoices', token)).json).toMatchObject({ Status: 503 });
    const limited = await api('Invoices', token);
    expect([limited.status, limited.headers.get('retry-after'), limited.headers.get('x-rate-limit-problem')]).toEqual([
      429,
      '7',
      'day',
    ]);
    expect((await api('Invoices', token)).status).toBe(200);

    emu.failNext(1, 500, { target: 'token', body: { error: 'server_error' } });
    expect(await tokenRequest({ grant_type: 'client_credentials' })).toEqual({
      status: 500,
      json: { error: 'server_error' },
    });
    expect(emu.stats().faultsInjected).toBe(4);
  });
});

// ---- webhooks -----------------------------------------------------------------------

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

async function startReceiver(
  key: string,
  statuses: number[] = [],
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, raw });
      const expected = createHmac('sha256', key).update(raw).digest('base64');
      const forced = statuses.shift();
      res.statusCode = forced ?? (req.headers['x-xero-signature'] === expected ? 200 : 401);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/xero`, received, server };
}

describe('Xero webhooks', () => {
  const KEY = 'xero-webhook-key-0123456789abcdef';

  test('payload has the exact Xero shape and a signature any plain HMAC verifies', async () => {
    emu = await startXeroEmulator();
    const receiver = await startReceiver(KEY);
    try {
      const payload = buildXeroPayload(
        [
          {
            resourceId: randomUUID(),
            tenantId: TENANT,
            eventCategory: 'INVOICE',
            eventType: 'UPDATE',
            eventDateUtc: new Date(T0),
          },
          {
            resourceId: randomUUID(),
            tenantId: TENANT,
            eventCategory: 'CREDITNOTE',
            eventType: 'CREATE',
            data: { Type: 'ACCRECCREDIT', Status: 'AUTHORISED' },
          },
        ],
        { firstEventSequence: 41 },
      );
      expect(payload).toMatchObject({
        firstEventSequence: 41,
        lastEventSequence: 42,
        entropy: expect.stringMatching(/^[A-Z]{20}$/),
      });
      expect(payload.events[0]).toEqual({
        resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${payload.events[0]?.resourceId}`,
        resourceId: payload.events[0]?.resourceId,
        eventDateUtc: '2026-03-02T09:00:00.000',
        eventType: 'UPDATE',
        eventCategory: 'INVOICE',
        tenantId: TENANT,
        tenantType: 'ORGANISATION',
      });

      const sent = await sendXeroWebhook(receiver.url, payload, KEY);
      expect(sent.status).toBe(200);
      expect(sent.durationMs).toBeGreaterThan(0);
      const got = receiver.received[0];
      expect(got?.headers['content-type']).toBe('application/json');
      expect(got?.raw).toBe(JSON.stringify(payload));
      expect(got?.headers['x-xero-signature']).toBe(
        createHmac('sha256', KEY)
          .update(got?.raw ?? '')
          .digest('base64'),
      );
      expect(signXero(got?.raw ?? '', KEY)).toBe(got?.headers['x-xero-signature']);

      expect((await sendXeroWebhook(receiver.url, payload, KEY, { badSignature: true })).status).toBe(401);
      expect(buildXeroIntentToReceive()).toMatchObject({ events: [], firstEventSequence: 0, lastEventSequence: 0 });
      expect((await checkXeroIntentToReceive(receiver.url, KEY)).passed).toBe(true);
    } finally {
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });

  test('provider retry mode re-sends until a 2xx, on the scaled schedule', async () => {
    emu = await startXeroEmulator();
    const receiver = await startReceiver(KEY, [503, 500]);
    try {
      const result = await deliverXeroWebhook(
        receiver.url,
        buildXeroPayload([{ resourceId: randomUUID(), tenantId: TENANT, eventCategory: 'CONTACT' }]),
        KEY,
        {
          scale: 0.0001,
        },
      );
      expect(result.delivered).toBe(true);
      expect(result.attempts.map((a) => [a.response?.status, a.scheduledDelayMs])).toEqual([
        [503, 0],
        [500, 6],
        [200, 30],
      ]);
      expect(new Set(receiver.received.map((r) => r.raw)).size).toBe(1);
    } finally {
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });
});
