import { createHash, createHmac } from 'node:crypto';
import { Agent, createServer, get } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerConsent } from '../oauth-consent';
import { parseQuery, startQuickBooksEmulator } from '.';
import type { QuickBooksEmulator, QuickBooksEmulatorOptions } from '.';
import {
  buildQuickBooksCloudEventsPayload,
  buildQuickBooksLegacyPayload,
  deliverQuickBooksWebhook,
  sendQuickBooksWebhook,
  signQuickBooks,
} from '../webhook-sender';

const CLIENT = { clientId: 'ABqbClient', clientSecret: 'qb-secret' };
const REALM = '9130357766185186';
const OTHER_REALM = '4620816365123456789';
const REDIRECT = 'http://localhost:3000/quickbooks/callback';
const T0 = Date.UTC(2026, 4, 4, 17, 30, 0);

let emu: QuickBooksEmulator;
let clock: number;

async function start(options: QuickBooksEmulatorOptions = {}): Promise<QuickBooksEmulator> {
  clock = T0;
  emu = await startQuickBooksEmulator({
    clients: [CLIENT],
    realms: [{ realmId: REALM }, { realmId: OTHER_REALM }],
    now: () => clock,
    ...options,
  });
  return emu;
}

afterEach(async () => {
  await emu.stop();
});

function basic(secret = CLIENT.clientSecret): string {
  return `Basic ${Buffer.from(`${CLIENT.clientId}:${secret}`).toString('base64')}`;
}

async function tokenRequest(form: Record<string, string>, authorization: string | null = basic()) {
  const res = await fetch(`${emu.url}/oauth2/v1/tokens/bearer`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function connect(realmId = REALM): Promise<{ access: string; refresh: string }> {
  const code = emu.issueAuthorizationCode({ clientId: CLIENT.clientId, realmId, redirectUri: REDIRECT });
  const { json } = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
  return { access: String(json['access_token']), refresh: String(json['refresh_token']) };
}

interface ApiResult {
  status: number;
  headers: Headers;
  json: unknown;
  at: (...path: (string | number)[]) => unknown;
}

async function api(
  path: string,
  token: string | undefined,
  init: RequestInit = {},
  realmId = REALM,
): Promise<ApiResult> {
  const res = await fetch(`${emu.url}/v3/company/${realmId}/${path}`, {
    ...init,
    headers: {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });
  const json: unknown = await res.json();
  return { status: res.status, headers: res.headers, json, at: (...path) => dig(json, ...path) };
}

function query(text: string, token: string): Promise<ApiResult> {
  return api(`query?query=${encodeURIComponent(text)}&minorversion=75`, token);
}

function batch(items: unknown[], token: string): Promise<ApiResult> {
  return api('batch', token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ BatchItemRequest: items }),
  });
}

/** Walks into a parsed JSON answer; any missing step yields undefined. */
function dig(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[step] : undefined;
  }
  return current;
}

describe('QuickBooks emulator: OAuth', () => {
  test('authorization code exchange needs Basic client auth and the redirect URI', async () => {
    await start();
    const code = emu.issueAuthorizationCode({ clientId: CLIENT.clientId, realmId: REALM, redirectUri: REDIRECT });
    const noAuth = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, null);
    expect(noAuth).toEqual({ status: 401, json: { error: 'invalid_client' } });
    expect(
      (await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, basic('x'))).status,
    ).toBe(401);

    const ok = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      token_type: 'bearer',
      access_token: expect.any(String),
      expires_in: 3600,
      refresh_token: expect.any(String),
      x_refresh_token_expires_in: 8_640_000,
    });
    const replay = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(replay).toEqual({ status: 400, json: { error: 'invalid_grant' } });
  });

  test('refresh tokens rotate and a rotated-out token is refused at once by default', async () => {
    await start();
    const { refresh: r1 } = await connect();
    const next = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 });
    expect(next.status).toBe(200);
    const r2 = String(next.json['refresh_token']);
    expect(r2).not.toBe(r1);
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 })).json).toEqual({
      error: 'invalid_grant',
    });
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: r2 })).status).toBe(200);
  });

  test('a configured grace period keeps the previous refresh token alive for a while', async () => {
    await start({ refreshTokenReuseGraceSeconds: 120, refreshTokenTtlSeconds: 86_400 });
    const { refresh: r1 } = await connect();
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 })).status).toBe(200);
    clock += 119_000;
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 })).status).toBe(200);
    clock += 1_000;
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1 })).status).toBe(400);

    const { refresh: unused } = await connect();
    clock += 86_401_000;
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: unused })).status).toBe(400);
  });

  test('expired or missing tokens get the AUTHENTICATION fault; other realms are forbidden', async () => {
    await start({ accessTokenTtlSeconds: 600 });
    const invoice = emu.upsertInvoice(REALM, {});
    const { access } = await connect();
    expect((await api(`invoice/${invoice.Id}`, access)).status).toBe(200);

    clock += 600_000;
    const expired = await api(`invoice/${invoice.Id}`, access);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
    expect(expired.json).toMatchObject({
      fault: {
        error: [
          {
            message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
            detail: expect.stringMatching(/^Token expired: /),
            code: '3200',
          },
        ],
        type: 'AUTHENTICATION',
      },
    });
    expect((await api(`invoice/${invoice.Id}`, undefined)).status).toBe(401);

    const fresh = await connect();
    expect((await api(`invoice/${invoice.Id}`, fresh.access, {}, OTHER_REALM)).status).toBe(403);
    expect((await api(`invoice/${invoice.Id}`, fresh.access, {}, '123')).at('Fault', 'Error', 0, 'code')).toBe('3100');
    emu.expireAllTokens();
    expect((await api(`invoice/${invoice.Id}`, fresh.access)).status).toBe(401);
    expect(emu.stats()).toMatchObject({ unauthorized: 3, forbidden: 2 });
  });
});

describe('QuickBooks emulator: Connect (consent page, realmId, PKCE, revoke)', () => {
  const verifier = 'q'.repeat(50);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `${emu.url}/connect/oauth2?${new URLSearchParams({
      client_id: CLIENT.clientId,
      response_type: 'code',
      scope: 'com.intuit.quickbooks.accounting',
      redirect_uri: REDIRECT,
      state: 'qs-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).toString()}`;

  test('the chosen company comes back as realmId; the code needs the verifier', async () => {
    await start();
    const { location, page } = await answerConsent(authorizeUrl(), { choose: [OTHER_REALM] });
    expect(page).toContain('Allow access');
    const back = new URL(location);
    expect(back.searchParams.get('realmId')).toBe(OTHER_REALM);
    expect(back.searchParams.get('state')).toBe('qs-1');
    const code = back.searchParams.get('code')!;
    const ok = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(ok.status).toBe(200);
    const api = await fetch(
      `${emu.url}/v3/company/${OTHER_REALM}/query?query=${encodeURIComponent('select * from Customer')}`,
      {
        headers: { authorization: `Bearer ${String(ok.json['access_token'])}`, accept: 'application/json' },
      },
    );
    expect(api.status).toBe(200);

    const again = new URL((await answerConsent(authorizeUrl())).location).searchParams.get('code')!;
    const wrong = await tokenRequest({
      grant_type: 'authorization_code',
      code: again,
      redirect_uri: REDIRECT,
      code_verifier: 'z'.repeat(50),
    });
    expect(wrong).toEqual({ status: 400, json: { error: 'invalid_grant' } });
    const denied = new URL((await answerConsent(authorizeUrl(), { decision: 'deny' })).location);
    expect(Object.fromEntries(denied.searchParams)).toEqual({ error: 'access_denied', state: 'qs-1' });
  });

  test('revoke takes JSON and ends the refresh token', async () => {
    await start();
    const { refresh } = await connect();
    const revoke = (token: string, authorization = basic()) =>
      fetch(`${emu.url}/v2/oauth2/tokens/revoke`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ token }),
      });
    expect((await revoke(refresh, basic('wrong'))).status).toBe(401);
    expect((await revoke(refresh)).status).toBe(200);
    expect(emu.hasRefreshToken(refresh)).toBe(false);
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: refresh })).json).toEqual({
      error: 'invalid_grant',
    });
    expect(emu.stats().revocations).toBe(1);
  });

  test('a merge removes the merged-away customer (CDC: Deleted) and versions the survivor', async () => {
    await start();
    const { access } = await connect();
    const a = emu.upsertCustomer(REALM, { DisplayName: 'Acme Ltd', Balance: 10 });
    const b = emu.upsertCustomer(REALM, { DisplayName: 'ACME Limited', Balance: 5 });
    const since = new Date(clock).toISOString();
    clock += 1000;
    const survivor = emu.mergeCustomers(REALM, b.Id, a.Id);
    expect(survivor).toMatchObject({ Id: a.Id, SyncToken: '1', Balance: 15 });
    expect(emu.getCustomer(REALM, b.Id)).toBeUndefined();
    const cdc = await fetch(
      `${emu.url}/v3/company/${REALM}/cdc?entities=Customer&changedSince=${encodeURIComponent(since)}`,
      {
        headers: { authorization: `Bearer ${access}`, accept: 'application/json' },
      },
    );
    const body = (await cdc.json()) as {
      CDCResponse: Array<{ QueryResponse: Array<{ Customer?: Array<Record<string, unknown>> }> }>;
    };
    const rows = body.CDCResponse[0]!.QueryResponse[0]!.Customer!;
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Id: b.Id, status: 'Deleted' }),
        expect.objectContaining({ Id: a.Id, SyncToken: '1' }),
      ]),
    );
  });
});

describe('QuickBooks emulator: reads and queries', () => {
  test('entity reads have the QuickBooks shape; missing ones are Object Not Found', async () => {
    await start();
    const customer = emu.upsertCustomer(REALM, { DisplayName: 'Amy’s Bird Sanctuary' });
    const invoice = emu.upsertInvoice(REALM, {
      CustomerRef: { value: customer.Id },
      Line: [{ Description: 'Pest control', Qty: 2, UnitPrice: 35 }],
    });
    const { access } = await connect();

    const read = await api(`invoice/${invoice.Id}?minorversion=75`, access);
    expect(read.headers.get('intuit_tid')).toBeTruthy();
    expect(read.at('time')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-07:00$/);
    expect(read.at('Invoice')).toMatchObject({
      Id: invoice.Id,
      SyncToken: '0',
      DocNumber: expect.any(String),
      TotalAmt: 70,
      Balance: 70,
      CustomerRef: { value: customer.Id, name: 'Amy’s Bird Sanctuary' },
      MetaData: { CreateTime: '2026-05-04T10:30:00-07:00', LastUpdatedTime: '2026-05-04T10:30:00-07:00' },
      Line: [
        expect.objectContaining({
          Amount: 70,
          DetailType: 'SalesItemLineDetail',
          SalesItemLineDetail: expect.objectContaining({ Qty: 2, UnitPrice: 35 }),
        }),
        expect.objectContaining({ Amount: 70, DetailType: 'SubTotalLineDetail' }),
      ],
    });
    expect((await api(`customer/${customer.Id}`, access)).at('Customer')).toMatchObject({
      DisplayName: 'Amy’s Bird Sanctuary',
      Active: true,
    });

    const missing = await api('invoice/999999', access);
    expect(missing.status).toBe(400);
    expect(missing.at('Fault')).toMatchObject({
      type: 'ValidationFault',
      Error: [expect.objectContaining({ code: '610' })],
    });
  });

  test('query by Id in (...) and Id = ..., by GET or as an application/text POST', async () => {
    await start();
    const [a, b, c] = [1, 2, 3].map((n) => emu.upsertInvoice(REALM, { TotalAmt: n * 100 }));
    const { access } = await connect();

    const inList = await query(`select * from Invoice where Id in ('${a?.Id}', '${c?.Id}')`, access);
    expect(inList.status).toBe(200);
    expect(inList.at('QueryResponse')).toMatchObject({ startPosition: 1, maxResults: 2 });
    expect((inList.at('QueryResponse', 'Invoice') as { Id: string }[]).map((i) => i.Id)).toEqual([a?.Id, c?.Id]);

    const single = await query(`SELECT * FROM Invoice WHERE Id = '${b?.Id}'`, access);
    expect(single.at('QueryResponse', 'Invoice')).toEqual([expect.objectContaining({ Id: b?.Id, TotalAmt: 200 })]);

    const posted = await api('query', access, {
      method: 'POST',
      headers: { 'content-type': 'application/text' },
      body: `select Id, TotalAmt from Invoice where TotalAmt > '150' ORDERBY TotalAmt DESC MAXRESULTS 1`,
    });
    expect(posted.at('QueryResponse')).toEqual({
      Invoice: [{ Id: c?.Id, SyncToken: '0', domain: 'QBO', sparse: true, TotalAmt: 300 }],
      startPosition: 1,
      maxResults: 1,
    });

    expect((await query(`select * from Invoice where Id = '424242'`, access)).at('QueryResponse')).toEqual({});
    expect((await query('select count(*) from Invoice', access)).at('QueryResponse')).toEqual({ totalCount: 3 });
    const paged = await query('select * from Invoice STARTPOSITION 2 MAXRESULTS 5', access);
    expect(paged.at('QueryResponse')).toMatchObject({ startPosition: 2, maxResults: 2 });
    const byTime = await query(
      `select * from Invoice where MetaData.LastUpdatedTime >= '2026-05-04T10:30:00-07:00'`,
      access,
    );
    expect(byTime.at('QueryResponse', 'Invoice')).toHaveLength(3);
  });

  test('malformed queries get a ValidationFault', async () => {
    await start();
    const { access } = await connect();
    const broken = await query(`select * from Invoice where Id in ('1',`, access);
    expect(broken.status).toBe(400);
    expect(broken.at('Fault')).toMatchObject({
      type: 'ValidationFault',
      Error: [expect.objectContaining({ Message: 'Error parsing query', code: '4000' })],
    });
    expect((await query('select * from Invoice where Nonsense = 1', access)).at('Fault', 'Error', 0, 'code')).toBe(
      '4001',
    );
    expect((await query('select * from Widget', access)).status).toBe(400);
    expect((await query(`select * from Invoice where Id = 'unterminated`, access)).status).toBe(400);
    expect((await api('query', access)).status).toBe(400);
  });

  test('parseQuery understands the query language subset', () => {
    expect(
      parseQuery(`Select * From Customer Where DisplayName LIKE 'Amy%' And Active = true OrderBy DisplayName Desc`),
    ).toEqual({
      entity: 'Customer',
      count: false,
      fields: '*',
      where: [
        { field: 'DisplayName', op: 'LIKE', values: ['Amy%'] },
        { field: 'Active', op: '=', values: [true] },
      ],
      orderBy: [{ field: 'DisplayName', desc: true }],
      startPosition: 1,
      maxResults: 100,
    });
    expect(parseQuery(`select * from Invoice where Id in ('1', '2') maxresults 5000`).maxResults).toBe(1000);
    expect(() => parseQuery('select * Invoice')).toThrow(/QueryParserError/);
    expect(() => parseQuery(`select * from Invoice where Id in ('1'`)).toThrow(/QueryParserError/);
  });
});

describe('QuickBooks emulator: batch and CDC', () => {
  test('batch runs queries and operations, item by item', async () => {
    await start();
    const first = emu.upsertInvoice(REALM, { TotalAmt: 10 });
    const second = emu.upsertInvoice(REALM, { TotalAmt: 20 });
    const { access } = await connect();
    const res = await batch(
      [
        { bId: 'q1', Query: `select * from Invoice where Id in ('${first.Id}','${second.Id}')` },
        { bId: 'bad', Query: 'select from' },
        { bId: 'u1', operation: 'update', Invoice: { Id: first.Id, SyncToken: '0', PrivateNote: 'chased' } },
        { bId: 'stale', operation: 'update', Invoice: { Id: second.Id, SyncToken: '7' } },
        { bId: 'd1', operation: 'delete', Invoice: { Id: second.Id, SyncToken: '0' } },
        { bId: 'c1', operation: 'create', Customer: { DisplayName: 'New Co' } },
      ],
      access,
    );
    expect(res.status).toBe(200);
    const items = res.at('BatchItemResponse') as unknown[];
    expect(items.map((i) => dig(i, 'bId'))).toEqual(['q1', 'bad', 'u1', 'stale', 'd1', 'c1']);
    expect(dig(items[0], 'QueryResponse', 'Invoice')).toHaveLength(2);
    expect(dig(items[1], 'Fault', 'type')).toBe('ValidationFault');
    expect(dig(items[2], 'Invoice')).toMatchObject({ Id: first.Id, SyncToken: '1', PrivateNote: 'chased' });
    expect(dig(items[3], 'Fault', 'Error', 0, 'code')).toBe('5010');
    expect(dig(items[4], 'Invoice')).toEqual({ domain: 'QBO', status: 'Deleted', Id: second.Id });
    expect(dig(items[5], 'Customer')).toMatchObject({ DisplayName: 'New Co', SyncToken: '0' });
    expect(emu.getInvoice(REALM, second.Id)).toBeUndefined();
    expect(emu.stats().batchItems).toBe(6);
  });

  test('more than 30 batch items is a 400 Fault', async () => {
    await start();
    const { access } = await connect();
    const items = Array.from({ length: 31 }, (_, i) => ({ bId: String(i), Query: 'select * from Invoice' }));
    const res = await batch(items, access);
    expect(res.status).toBe(400);
    expect(res.at('Fault', 'type')).toBe('ValidationFault');
    expect((await batch(items.slice(0, 30), access)).status).toBe(200);
  });

  test('CDC returns changes since a moment, deletions included, at most 30 days back', async () => {
    await start();
    const old = emu.upsertInvoice(REALM, {});
    const doomed = emu.upsertInvoice(REALM, {});
    clock += 60_000;
    const since = new Date(clock).toISOString();
    clock += 1_000;
    const changed = emu.upsertInvoice(REALM, { Id: old.Id, Balance: 0 });
    const customer = emu.upsertCustomer(REALM, { DisplayName: 'Changed Customer' });
    emu.deleteInvoice(REALM, doomed.Id);
    const { access } = await connect();

    const res = await api(`cdc?entities=Invoice,Customer&changedSince=${encodeURIComponent(since)}`, access);
    expect(res.status).toBe(200);
    const [invoices, customers] = res.at('CDCResponse', 0, 'QueryResponse') as unknown[];
    expect(dig(invoices, 'Invoice')).toEqual([
      expect.objectContaining({ Id: changed.Id, SyncToken: '1', Balance: 0 }),
      { domain: 'QBO', status: 'Deleted', Id: doomed.Id, MetaData: { LastUpdatedTime: expect.any(String) } },
    ]);
    expect(dig(customers, 'Customer')).toEqual([expect.objectContaining({ Id: customer.Id })]);

    const tooOld = new Date(clock - 31 * 86_400_000).toISOString();
    const refused = await api(`cdc?entities=Invoice&changedSince=${encodeURIComponent(tooOld)}`, access);
    expect(refused.status).toBe(400);
    expect(refused.at('Fault', 'type')).toBe('ValidationFault');
    expect((await api('cdc?entities=Invoice', access)).status).toBe(400);
    expect((await api(`cdc?entities=Widget&changedSince=${encodeURIComponent(since)}`, access)).status).toBe(400);
  });

  test('CDC caps the number of objects, oldest first', async () => {
    await start({ cdcMaxObjects: 3 });
    const created = Array.from({ length: 5 }, () => emu.upsertInvoice(REALM, {}));
    const { access } = await connect();
    const res = await api(
      `cdc?entities=Invoice&changedSince=${encodeURIComponent(new Date(T0 - 1000).toISOString())}`,
      access,
    );
    const rows = res.at('CDCResponse', 0, 'QueryResponse', 0, 'Invoice') as { Id: string }[];
    // Customers created on the fly do not count: only the requested entity is reported.
    expect(rows.map((r) => r.Id)).toEqual(created.slice(0, 3).map((i) => i.Id));
  });
});

describe('QuickBooks emulator: throttling and faults', () => {
  test('per-second limit answers the ThrottleExceeded Fault with Retry-After 60', async () => {
    await start({ limits: { perSecond: 3 } });
    const invoice = emu.upsertInvoice(REALM, {});
    const { access } = await connect();
    for (let i = 0; i < 3; i += 1) expect((await api(`invoice/${invoice.Id}`, access)).status).toBe(200);
    const limited = await api(`invoice/${invoice.Id}`, access);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.json).toMatchObject({
      Fault: {
        Error: [
          {
            Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
            Detail: 'ThrottleExceeded',
            code: '3001',
          },
        ],
        type: 'SERVICE',
      },
      time: expect.any(String),
    });
    clock += 1_000;
    expect((await api(`invoice/${invoice.Id}`, access)).status).toBe(200);
    expect(emu.stats().rateLimited.second).toBe(1);
  });

  test('minute limit, with Retry-After computed from the window when asked', async () => {
    await start({ limits: { perMinute: 4, perSecond: 100 }, retryAfterSeconds: 'window' });
    const { access } = await connect();
    for (let i = 0; i < 4; i += 1) {
      expect((await query('select * from Invoice', access)).status).toBe(200);
      clock += 5_000;
    }
    const limited = await query('select * from Invoice', access);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '40']);
    expect(emu.stats().rateLimited.minute).toBe(1);
  });

  test('batch requests have their own per-minute allowance; Retry-After can be omitted', async () => {
    await start({ limits: { batchPerMinute: 2 }, retryAfterSeconds: null });
    const { access } = await connect();
    const items = [{ bId: '1', Query: 'select * from Invoice' }];
    expect((await batch(items, access)).status).toBe(200);
    expect((await batch(items, access)).status).toBe(200);
    const limited = await batch(items, access);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect((await query('select * from Invoice', access)).status).toBe(200);
    expect(emu.stats().rateLimited.batch).toBe(1);
  });

  test('concurrency is counted per realm and every slot is returned under load', async () => {
    await start({ limits: { concurrent: 10, perSecond: 10_000, perMinute: 10_000 }, latencyMs: 5 });
    const invoice = emu.upsertInvoice(REALM, {});
    const { access } = await connect();
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const { hostname, port } = new URL(emu.url);
    const one = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const headers = { authorization: `Bearer ${access}`, accept: 'application/json' };
        get({ hostname, port, path: `/v3/company/${REALM}/invoice/${invoice.Id}`, headers, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
    const statuses = await Promise.all(Array.from({ length: 500 }, one));
    agent.destroy();
    const stats = emu.stats();
    expect(statuses.filter((s) => s === 200)).toHaveLength(stats.apiCallsServed);
    expect(statuses.filter((s) => s === 429)).toHaveLength(stats.rateLimited.concurrent);
    expect(stats.maxConcurrencyByRealm[REALM]).toBe(10);
    const after = await Promise.all(Array.from({ length: 10 }, () => api(`invoice/${invoice.Id}`, access)));
    expect(after.every((r) => r.status === 200)).toBe(true);
  }, 15_000);

  test('failNext injects faults on the API or the token endpoint', async () => {
    await start();
    const { access, refresh } = await connect();
    emu.failNext(1, 500);
    emu.failNext(1, 429, { retryAfter: 5 });
    const failed = await query('select * from Invoice', access);
    expect([failed.status, failed.at('Fault', 'type')]).toEqual([500, 'SystemFault']);
    const throttled = await query('select * from Invoice', access);
    expect([throttled.status, throttled.headers.get('retry-after'), throttled.at('Fault', 'Error', 0, 'code')]).toEqual(
      [429, '5', '3001'],
    );
    expect((await query('select * from Invoice', access)).status).toBe(200);

    emu.failNext(1, 503, { target: 'token' });
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(503);
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(200);
  });
});

// ---- webhooks -----------------------------------------------------------------------

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

async function startReceiver(
  token: string,
  statuses: number[] = [],
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, raw });
      const expected = createHmac('sha256', token).update(raw).digest('base64');
      res.statusCode = statuses.shift() ?? (req.headers['intuit-signature'] === expected ? 200 : 401);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/quickbooks`, received, server };
}

describe('QuickBooks webhooks', () => {
  const VERIFIER = 'a1b2c3d4-verifier-token';

  test('legacy and CloudEvents bodies, signed with intuit-signature', async () => {
    emu = await startQuickBooksEmulator();
    const receiver = await startReceiver(VERIFIER);
    try {
      const legacy = buildQuickBooksLegacyPayload(REALM, [
        { name: 'Invoice', id: '130', operation: 'Update', lastUpdated: new Date(T0) },
        { name: 'Customer', id: '58', operation: 'Merge', deletedId: '57' },
      ]);
      expect(legacy.eventNotifications[0]).toEqual({
        realmId: REALM,
        dataChangeEvent: {
          entities: [
            { name: 'Invoice', id: '130', operation: 'Update', lastUpdated: '2026-05-04T17:30:00.000Z' },
            { name: 'Customer', id: '58', operation: 'Merge', lastUpdated: expect.any(String), deletedId: '57' },
          ],
        },
      });
      const cloud = buildQuickBooksCloudEventsPayload(REALM, [{ name: 'Invoice', id: '130', operation: 'Update' }]);
      expect(cloud).toEqual([
        {
          specversion: '1.0',
          id: expect.any(String),
          source: expect.stringMatching(/^intuit\./),
          type: 'qbo.invoice.updated.v1',
          datacontenttype: 'application/json',
          time: expect.any(String),
          intuitentityid: '130',
          intuitaccountid: REALM,
          data: {},
        },
      ]);

      for (const body of [legacy, cloud]) {
        const sent = await sendQuickBooksWebhook(receiver.url, body, VERIFIER);
        expect(sent.status).toBe(200);
      }
      for (const got of receiver.received) {
        const plain = createHmac('sha256', VERIFIER).update(got.raw).digest('base64');
        expect(got.headers['intuit-signature']).toBe(plain);
        expect(signQuickBooks(Buffer.from(got.raw), VERIFIER)).toBe(plain);
      }
      expect((await sendQuickBooksWebhook(receiver.url, legacy, VERIFIER, { badSignature: true })).status).toBe(401);
    } finally {
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });

  test('provider retry mode follows the QuickBooks schedule, scaled down', async () => {
    emu = await startQuickBooksEmulator();
    const receiver = await startReceiver(VERIFIER, [500, 503, 502]);
    try {
      const body = buildQuickBooksLegacyPayload(REALM, [{ name: 'Invoice', id: '1', operation: 'Create' }]);
      const result = await deliverQuickBooksWebhook(receiver.url, body, VERIFIER, { scale: 0.001 });
      expect(result.delivered).toBe(true);
      expect(result.attempts.map((a) => [a.response?.status, a.scheduledDelayMs])).toEqual([
        [500, 0],
        [503, 10],
        [502, 20],
        [200, 30],
      ]);
      const capped = await deliverQuickBooksWebhook('http://127.0.0.1:1/unreachable', body, VERIFIER, {
        scale: 0,
        maxAttempts: 2,
      });
      expect(capped.delivered).toBe(false);
      expect(capped.attempts.map((a) => a.error !== undefined)).toEqual([true, true]);
    } finally {
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });
});
