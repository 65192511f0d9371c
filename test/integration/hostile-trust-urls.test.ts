import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { XeroEmulator } from '../emulators/xero';
import { fetchJson, requestClientToken, startStack, type Stack } from '../harness/stack';
import {
  createConnectableXero,
  sendInvoiceUpdated,
  startXero,
  WEBHOOK_KEY,
  webhookIn,
  XERO_CLIENT,
  xeroConnectSettings,
  xeroConsent,
} from './incoming-helpers';
import { createMadeUpMailbox, madeUpMailbox } from './mailbox-helpers';
import { J } from './hostile/payloads';
import { type HostileCase, type HostileTarget, runHostileCase } from './hostile/runner';

/**
 * Trust boundaries of stored secrets: a server URL that a secret is sent to moves only with that
 * secret (issue 23 item 1); provider hosts are pinned and https-only (item 9); credentials carry
 * a scope (item 2). Each hostile row answers a 4xx in the one error envelope and changes nothing;
 * a listener on a loopback port the operator did not allow never sees a stored secret.
 */

const TENANT = randomUUID();
let stack: Stack;
let xero: XeroEmulator;
let refreshToken: string;
let xeroId: string;
let otherXeroId: string;
let mailboxId: string;
let webhookId: string;
let readOnlyKey: string;
let integrationKey: string;
let integrationAppToken: string;

// The listener the attacker controls: loopback, allowed by the SSRF guard (OUTBOUND_ALLOWED_HOSTS)
// but not by PROVIDER_CUSTOM_HOSTS. Every request it receives is kept.
const evilRequests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
let evil: http.Server;
let evilUrl = '';
// The webhook's rightful receiver.
const received: string[] = [];
let receiver: http.Server;

const listen = async (handler: http.RequestListener) => {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` };
};

beforeAll(async () => {
  ({ xero, refreshToken } = await startXero(TENANT));
  const e = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      evilRequests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"x","expires_in":1800}');
    });
  });
  evil = e.server;
  evilUrl = e.url;
  const r = await listen((req, res) => {
    received.push(String(req.headers.authorization));
    req.resume();
    res.writeHead(200).end();
  });
  receiver = r.server;

  stack = await startStack({
    RATE_LIMIT_REQUESTS: '0',
    // Only the Xero emulator's own port may stand in for Xero.
    PROVIDER_CUSTOM_HOSTS: `127.0.0.1:${xero.port}`,
  });
  const settings = { tenantIds: [TENANT] };
  xeroId = (await createConnectableXero(stack, xero, { name: 'trusted xero', refreshToken, settings })).id;
  otherXeroId = (
    await createConnectableXero(stack, xero, { name: 'other xero', refreshToken: await xeroConsent(xero), settings })
  ).id;
  mailboxId = (await createMadeUpMailbox(stack, { name: 'trusted mailbox', clientSecret: 'mailbox-secret' })).id;
  const w = await stack.request('POST', '/api/v1/webhooks', {
    name: 'trusted webhook',
    url: `${r.url}/hook`,
    events: [{ type: 'Ticket Changed' }],
    authentication: { type: 'bearer', token: 'receiver-bearer-token-0123' },
  });
  if (w.status !== 201) throw new Error(`webhook: ${w.text}`);
  webhookId = w.body.id;

  const credential = async (body: Record<string, unknown>) =>
    (await stack.request('POST', '/api/v1/api-clients', body)).body;
  readOnlyKey = (await credential({ name: 'dashboards', kind: 'api_key', scope: 'read-only' })).apiKey;
  const forXero = { scope: 'integration', integrationId: xeroId };
  integrationKey = (await credential({ name: 'xero ingest', kind: 'api_key', ...forXero })).apiKey;
  const app = await credential({ name: 'xero app', kind: 'application', ...forXero });
  const token = await requestClientToken(stack.apiUrl, app);
  expect(token.body.scope).toBe('integration');
  integrationAppToken = token.body.access_token;

  // The first sync: tokens obtained from the emulator, so there are stored tokens to protect.
  const { sent } = await sendInvoiceUpdated(stack, xero, xeroId, TENANT, { Total: 1, Reference: 'first' });
  expect((await webhookIn(stack, sent.ids[0]!, ['succeeded', 'failed'])).status).toBe('succeeded');
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await xero?.stop();
  await new Promise((r) => evil?.close(r));
  await new Promise((r) => receiver?.close(r));
});

/** Everything a refused request must leave as it was: settings, sealed secrets, tokens, credentials. */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, sql] of [
    ['integrations', 'SELECT id, name, settings, secrets_enc, enabled FROM integrations'],
    ['provider_tokens', 'SELECT integration_id, tokens_enc, generation FROM provider_tokens'],
    ['mailboxes', 'SELECT id, authority, secrets_enc, token_cache_enc FROM mailboxes'],
    ['webhooks', 'SELECT id, config, secrets_enc FROM webhooks'],
    ['api_clients', 'SELECT id, scope, integration_id FROM api_clients'],
  ] as const) {
    const { rows } = await stack.db.query(`SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h,
      count(*)::int AS n FROM (${sql}) t`);
    out[name] = `${rows[0].n}:${rows[0].h}`;
  }
  return out;
}

type Who = 'admin' | 'read-only' | 'integration' | 'integration-app';
/** A refused change to a stored secret's URL or a credential's scope, sent with `who`'s credential (admin when omitted). */
type Row = HostileCase<void> & { who?: Who };

const emu = (path: string) => `http://127.0.0.1:${xero.port}${path}`;
const newXero = (settings: Record<string, unknown>) => ({
  provider: 'xero',
  name: 'hostile xero',
  webhookKey: WEBHOOK_KEY,
  clientSecret: XERO_CLIENT.clientSecret,
  settings: { ...xeroConnectSettings(xero), ...settings },
});
/** A 400: refused for the code it names. */
const refused = (row: Omit<Row, 'status' | 'envelope'>): Row => ({ status: 400, envelope: 'standard', ...row });
/** A 403: the credential's scope does not reach that far. */
const outOfScope = (row: Omit<Row, 'status' | 'envelope' | 'code'>): Row => ({
  status: 403,
  code: 'insufficient_scope',
  envelope: 'standard',
  ...row,
});
/** A PATCH of the trusted Xero integration: `settings`, and `extra` top-level fields. */
const patchXero = (settings: () => Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  method: 'PATCH',
  path: () => `/api/v1/integrations/${xeroId}`,
  body: () => J({ settings: settings(), ...extra }),
});
const post = (path: string, body: () => unknown) => ({ method: 'POST', path, body: () => J(body()) });
const patch = (path: () => string, body: () => unknown) => ({ method: 'PATCH', path, body: () => J(body()) });

const ROWS: Row[] = [
  // Item 1: a server URL moves only with the secret sent to it.
  refused({
    name: 'xero tokenUrl moved (allowed host) without clientSecret',
    ...patchXero(() => ({ tokenUrl: emu('/elsewhere/token') })),
    code: 'secret_required',
  }),
  refused({
    name: 'xero apiBaseUrl moved without clientSecret',
    ...patchXero(() => ({ apiBaseUrl: emu('/other/api.xro/2.0') })),
    code: 'secret_required',
  }),
  refused({
    name: 'xero connectionsUrl moved without clientSecret',
    ...patchXero(() => ({ connectionsUrl: emu('/other/connections') })),
    code: 'secret_required',
  }),
  refused({
    name: 'xero revocationUrl moved without clientSecret, with a new name',
    ...patchXero(() => ({ revocationUrl: emu('/other/revocation') }), { name: 'renamed' }),
    code: 'secret_required',
  }),
  refused({
    name: 'integration credential moves its own tokenUrl without clientSecret',
    who: 'integration',
    ...patchXero(() => ({ tokenUrl: emu('/mine/token') })),
    code: 'secret_required',
  }),
  refused({
    name: 'xero tokenUrl to a loopback listener not allowed by the operator, even with clientSecret',
    ...patchXero(() => ({ tokenUrl: `${evilUrl}/token` }), { clientSecret: XERO_CLIENT.clientSecret }),
    code: 'provider_host_not_allowed',
  }),
  refused({
    name: 'xero revocationUrl to the listener without clientSecret',
    ...patchXero(() => ({ revocationUrl: `${evilUrl}/revoke` })),
    code: 'provider_host_not_allowed',
  }),
  refused({
    name: 'xero apiBaseUrl on a look-alike host',
    ...patchXero(() => ({ apiBaseUrl: 'https://api.xero.com.evil.example/api.xro/2.0' }), {
      clientSecret: 'new-secret-0123',
    }),
    code: 'provider_host_not_allowed',
  }),
  refused({
    name: "xero apiBaseUrl on Intuit's host (another provider's official host)",
    ...patchXero(() => ({ apiBaseUrl: 'https://quickbooks.api.intuit.com/v3' }), { clientSecret: 'new-secret-0123' }),
    code: 'provider_host_not_allowed',
  }),
  refused({
    name: 'new xero integration whose connectionsUrl is the listener',
    ...post('/api/v1/integrations', () => newXero({ connectionsUrl: `${evilUrl}/connections` })),
    code: 'provider_host_not_allowed',
  }),
  // Item 9: https only; http for loopback hosts the operator listed.
  refused({
    name: "xero tokenUrl on Xero's own host over plain http",
    ...patchXero(() => ({ tokenUrl: 'http://identity.xero.com/connect/token' }), {
      clientSecret: XERO_CLIENT.clientSecret,
    }),
    code: 'provider_host_not_allowed',
  }),
  refused({
    name: "new xero integration with Xero's API on a non-default port",
    ...post('/api/v1/integrations', () => newXero({ apiBaseUrl: 'https://api.xero.com:8443/api.xro/2.0' })),
    code: 'provider_host_not_allowed',
  }),
  refused({
    name: 'new quickbooks integration whose tokenUrl is plain http on a public host',
    ...post('/api/v1/integrations', () => ({
      provider: 'quickbooks',
      name: 'hostile qbo',
      verifierToken: 'verifier-token-0123456789',
      clientSecret: 'qbo-secret',
      settings: { clientId: 'app', tokenUrl: 'http://oauth.platform.intuit.com/oauth2/v1/tokens/bearer' },
    })),
    code: 'provider_host_not_allowed',
  }),
  // Item 1: a mailbox's authority.
  refused({
    name: 'mailbox authority moved to another Microsoft cloud without clientSecret',
    ...patch(
      () => `/api/v1/mailboxes/${mailboxId}`,
      () => ({ authority: 'us_gov' }),
    ),
    code: 'secret_required',
  }),
  refused({
    name: 'mailbox authority moved to a custom login and Graph host, with clientSecret',
    ...patch(
      () => `/api/v1/mailboxes/${mailboxId}`,
      () => ({
        authority: { kind: 'custom', loginUrl: 'https://login.evil.example', graphUrl: 'https://graph.evil.example' },
        clientSecret: 'mailbox-secret',
      }),
    ),
    code: 'validation_failed',
  }),
  refused({
    name: "new mailbox with Microsoft's login but a custom Graph host",
    ...post('/api/v1/mailboxes', () =>
      madeUpMailbox({
        name: 'hostile',
        clientSecret: 's',
        emailAddress: 'a@contoso.example',
        authority: {
          kind: 'custom',
          loginUrl: 'https://login.microsoftonline.com',
          graphUrl: 'https://graph.evil.example',
        },
      }),
    ),
    code: 'validation_failed',
  }),
  // Item 1: an outgoing webhook's URL keeps its credential only when it is restated.
  refused({
    name: 'webhook url moved without its bearer token',
    ...patch(
      () => `/api/v1/webhooks/${webhookId}`,
      () => ({ url: `${evilUrl}/hook` }),
    ),
    code: 'secret_required',
  }),
  refused({
    name: 'webhook url moved, authentication restated without the token',
    ...patch(
      () => `/api/v1/webhooks/${webhookId}`,
      () => ({ url: `${evilUrl}/hook`, authentication: { type: 'bearer' } }),
    ),
    code: 'secret_required',
  }),
  // Item 2: scopes.
  outOfScope({
    name: 'integration credential mints an admin key',
    who: 'integration',
    ...post('/api/v1/api-clients', () => ({ name: 'escalate', kind: 'api_key', scope: 'admin' })),
  }),
  outOfScope({
    name: 'integration application (client credentials token) mints an admin application',
    who: 'integration-app',
    ...post('/api/v1/api-clients', () => ({ name: 'escalate', kind: 'application' })),
  }),
  outOfScope({
    name: "integration credential edits another integration's tokenUrl",
    who: 'integration',
    ...patch(
      () => `/api/v1/integrations/${otherXeroId}`,
      () => ({ settings: { tokenUrl: emu('/x') }, clientSecret: XERO_CLIENT.clientSecret }),
    ),
  }),
  outOfScope({
    name: "integration credential moves a webhook's url (with its token)",
    who: 'integration-app',
    ...patch(
      () => `/api/v1/webhooks/${webhookId}`,
      () => ({ url: `${evilUrl}/hook`, authentication: { type: 'bearer', token: 'receiver-bearer-token-0123' } }),
    ),
  }),
  outOfScope({
    name: 'integration credential deletes its own integration',
    who: 'integration',
    method: 'DELETE',
    path: () => `/api/v1/integrations/${xeroId}`,
  }),
  outOfScope({
    name: 'read-only credential mints a key',
    who: 'read-only',
    ...post('/api/v1/api-clients', () => ({ name: 'escalate', kind: 'api_key' })),
  }),
  outOfScope({ name: 'read-only credential lists credentials', who: 'read-only', path: '/api/v1/api-clients' }),
  outOfScope({
    name: "read-only credential moves a mailbox's authority",
    who: 'read-only',
    ...patch(
      () => `/api/v1/mailboxes/${mailboxId}`,
      () => ({ authority: 'china', clientSecret: 'mailbox-secret' }),
    ),
  }),
  refused({
    name: 'admin creates an integration credential for an integration that does not exist',
    ...post('/api/v1/api-clients', () => ({
      name: 'ghost',
      kind: 'api_key',
      scope: 'integration',
      integrationId: randomUUID(),
    })),
    code: 'integration_not_found',
  }),
  refused({
    name: 'admin creates an integration credential without naming the integration',
    ...post('/api/v1/api-clients', () => ({ name: 'ghost', kind: 'application', scope: 'integration' })),
    code: 'validation_failed',
  }),
];

const tokenFor = (who: Who) =>
  ({
    admin: stack.apiKey,
    'read-only': readOnlyKey,
    integration: integrationKey,
    'integration-app': integrationAppToken,
  })[who];

/** Sends each row with its credential; a refusal must leave every stored secret and setting as it was. */
const target: HostileTarget<void, Row> = {
  fixtures: () => undefined,
  snapshot: fingerprint,
  send: async (row, request) => ({
    res: await fetchJson(`${stack.apiUrl}${request.path}`, {
      method: request.method,
      headers: {
        authorization: `Bearer ${tokenFor(row.who ?? 'admin')}`,
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(request.body === undefined ? {} : { body: request.body }),
    }),
  }),
};

test.each(ROWS.map((r) => [r.name, r] as const))('%s → 4xx, one envelope, nothing changed', async (_name, row) => {
  expect((await runHostileCase(row, target)).problems).toEqual([]);
});

test('ROWS cover at least 15 hostile cases', () => {
  expect(ROWS.length).toBeGreaterThanOrEqual(15);
});

test('after the refused URL changes, sync, token refresh and Disconnect reach only the emulator, never the listener', async () => {
  expect(evilRequests).toEqual([]);
  const before = xero.stats();
  // Sync: a webhook is processed with the stored tokens (refreshed first: they are expired).
  xero.expireAllTokens();
  const { sent } = await sendInvoiceUpdated(stack, xero, xeroId, TENANT, { Total: 2, Reference: 'after' });
  expect((await webhookIn(stack, sent.ids[0]!, ['succeeded', 'failed'])).status).toBe('succeeded');
  // Token refresh and the connections call, through the integration's own credential.
  const tenants = await fetchJson(`${stack.apiUrl}/api/v1/integrations/${xeroId}/connection/tenants`, {
    headers: { authorization: `Bearer ${integrationKey}` },
  });
  expect(tenants.status).toBe(200);
  const off = await stack.request('POST', `/api/v1/integrations/${xeroId}/disconnect`, {});
  expect(off.status).toBe(200);
  expect(off.body).toMatchObject({ revoked: true });
  const after = xero.stats();
  expect(after.revocations).toBe(before.revocations + 1);
  expect(Object.values(after.tokenGrantsByType).reduce((a, b) => a + b, 0)).toBeGreaterThan(
    Object.values(before.tokenGrantsByType).reduce((a, b) => a + b, 0),
  );
  expect(evilRequests).toEqual([]);
});

test('a stored URL outside the pinned hosts (saved before the pin) is refused on every call: the listener sees nothing', async () => {
  // As if the row had been written before hosts were pinned: every server URL is the listener.
  await stack.db.query(
    `UPDATE integrations SET settings = settings || jsonb_build_object('tokenUrl', $2::text, 'apiBaseUrl', $3::text,
       'connectionsUrl', $4::text, 'revocationUrl', $5::text), updated_at = now() WHERE id = $1`,
    [otherXeroId, `${evilUrl}/token`, `${evilUrl}/api.xro/2.0`, `${evilUrl}/connections`, `${evilUrl}/revoke`],
  );
  await new Promise((r) => setTimeout(r, 1500)); // ingress caches an integration for a second
  const { sent } = await sendInvoiceUpdated(stack, xero, otherXeroId, TENANT, { Total: 3, Reference: 'pinned' });
  expect(sent.ids).toHaveLength(1);
  const tenants = await stack.request('GET', `/api/v1/integrations/${otherXeroId}/connection/tenants`);
  expect(tenants.status).toBeGreaterThanOrEqual(400);
  const off = await stack.request('POST', `/api/v1/integrations/${otherXeroId}/disconnect`, {});
  expect(off.body).toMatchObject({ revoked: false });
  // Give the worker time to try the webhook (it would have called the token URL at once).
  await new Promise((r) => setTimeout(r, 3000));
  const { rows } = await stack.db.query('SELECT status FROM incoming_webhooks WHERE id = $1', [sent.ids[0]]);
  expect(rows[0].status).not.toBe('succeeded');
  expect(evilRequests).toEqual([]);
});

test('accepted with the secret: the URL moves and the stored tokens bound to the old host are dropped', async () => {
  // A third integration, with tokens held.
  const created = await createConnectableXero(stack, xero, {
    name: 'moving xero',
    refreshToken: await xeroConsent(xero),
    settings: { tenantIds: [TENANT] },
  });
  const id = created.id;
  expect((await stack.request('GET', `/api/v1/integrations/${id}/connection/tenants`)).status).toBe(200);
  const held = await stack.db.query('SELECT tokens_enc FROM provider_tokens WHERE integration_id = $1', [id]);
  expect(held.rows[0].tokens_enc).not.toBeNull();

  const moved = await stack.request('PATCH', `/api/v1/integrations/${id}`, {
    settings: { tokenUrl: emu('/connect/token?moved=1') },
    clientSecret: XERO_CLIENT.clientSecret,
  });
  expect(moved.status).toBe(200);
  expect(moved.body.settings.tokenUrl).toBe(emu('/connect/token?moved=1'));
  expect((await stack.db.query('SELECT 1 FROM provider_tokens WHERE integration_id = $1', [id])).rowCount).toBe(0);
  // The pasted refresh token went too: the integration must be connected again.
  const status = await stack.request('GET', `/api/v1/integrations/${id}/connection`);
  expect(status.body).toMatchObject({ connected: false });

  // A webhook's URL moves when its credential is restated.
  const hook = await stack.request('PATCH', `/api/v1/webhooks/${webhookId}`, {
    url: `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/moved`,
    authentication: { type: 'bearer', token: 'a-new-bearer-token-0123' },
  });
  expect(hook.status).toBe(200);
  // A mailbox's authority moves with its secret.
  const mb = await stack.request('PATCH', `/api/v1/mailboxes/${mailboxId}`, {
    authority: 'us_gov',
    clientSecret: 'the-us-gov-secret',
  });
  expect([mb.status, mb.body.authority]).toEqual([200, { kind: 'us_gov' }]);
});
