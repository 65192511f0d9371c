import { randomBytes, randomUUID } from 'node:crypto';
import { signGeneric } from '../../src/incoming/generic/webhook';
import { ConfigError, loadConfig } from '../../src/platform/config';
import { answerConsent } from '../emulators/oauth-consent';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { startXeroEmulator, type XeroEmulator } from '../emulators/xero';
import { freePort } from '../harness/free-port';
import { Receiver } from '../harness/receiver';
import { eventually, fetchJson, startStack, type ApiResponse, type Stack } from '../harness/stack';
import { type HostileCase, type HostileTarget, runHostileCase } from './hostile/runner';
import { createConnectableXero, XERO_CLIENT } from './incoming-helpers';

/**
 * Hostile input at the trust boundaries of issue 23: replayed or forged Standard Webhooks
 * requests, consent callbacks from a browser that did not start the flow, and malformed master
 * key settings. Every case is refused with a clear 4xx (or a duplicate answer) and changes nothing.
 */
let stack: Stack;
let xero: XeroEmulator;
let receiver: Receiver;
let generic: { id: string; signingSecret: string };
let xeroId: string;

const SIX_MINUTES = 6 * 60_000;
const BODY = JSON.stringify({ type: 'Invoice updated', id: 'INV-hostile' });

beforeAll(async () => {
  receiver = await Receiver.start();
  xero = await startXeroEmulator({
    clients: [{ ...XERO_CLIENT, name: 'Switchyard' }],
    tenants: [{ tenantId: randomUUID(), name: 'Hostile Ltd' }],
  });
  const port = await freePort();
  stack = await startStack({
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    RATE_LIMIT_REQUESTS: '0',
  });
  const g = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'hostile trust',
    processingMethod: 'service_immediate',
    settings: { forwardUrl: receiver.url('/forward') },
  });
  expect(g.status).toBe(201);
  generic = g.body;
  xeroId = (await createConnectableXero(stack, xero, { name: 'hostile connect' })).id;
});
afterAll(async () => {
  await stack?.stop();
  await xero?.stop();
  await receiver?.close();
});

const count = async (sql: string, args: unknown[] = []) => Number((await stack.db.query(sql, args)).rows[0].n);
const storedWebhooks = () =>
  count('SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [generic.id]);

function postGeneric(body: string | Buffer, headers: Record<string, string>) {
  return fetchJson(`${stack.apiUrl}/hooks/generic/${generic.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/** Starts a Connect sign-in as a browser would; the consent callback URL and the cookie it was given. */
async function startedSignIn() {
  const started = await stack.request('POST', `/api/v1/integrations/${xeroId}/connect`, {});
  expect(started.status).toBe(200);
  const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { location } = await answerConsent(started.body.authorizeUrl);
  return { url: location, cookie };
}

/** A hostile request to the generic integration's ingress: BODY, signed (or not) as `headers` says. */
type IngressCase = HostileCase<void>;

/** A consent callback a browser opens; the answer is an HTML page. */
interface ConsentCase {
  name: string;
  send: () => Promise<ApiResponse>;
  status: number;
  /** Text the page shows. */
  text: RegExp;
}

const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const sw = (o: Parameters<typeof signStandardWebhook>[2] = {}, body = BODY) =>
  signStandardWebhook(body, generic.signingSecret, o);
/** Refused (a 401 unless the case says otherwise) with `code`; BODY unless the case sends another. */
const refused = (c: Omit<IngressCase, 'path' | 'status' | 'envelope'> & { status?: number }): IngressCase => ({
  path: () => `/hooks/generic/${generic.id}`,
  body: BODY,
  status: 401,
  envelope: 'standard',
  ...c,
});

const ingressCases: IngressCase[] = [
  refused({
    name: 'Standard Webhooks: a timestamp six minutes old',
    headers: () => sw({ at: new Date(Date.now() - SIX_MINUTES) }),
    code: 'timestamp_out_of_tolerance',
  }),
  refused({
    name: 'Standard Webhooks: a timestamp six minutes ahead',
    headers: () => sw({ at: new Date(Date.now() + SIX_MINUTES) }),
    code: 'timestamp_out_of_tolerance',
  }),
  refused({
    name: 'Standard Webhooks: a captured signature under a new webhook-id',
    headers: () => ({ ...sw({ id: 'msg_captured' }), 'webhook-id': 'msg_fresh' }),
    code: 'invalid_signature',
  }),
  refused({
    name: 'Standard Webhooks: a captured signature with a fresh timestamp',
    headers: () => ({
      ...sw({ at: new Date(Date.now() - 60_000) }),
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    }),
    code: 'invalid_signature',
  }),
  refused({
    name: 'Standard Webhooks: a captured signature over a changed body',
    body: JSON.stringify({ type: 'Invoice updated', id: 'INV-evil' }),
    headers: () => sw(),
    code: 'invalid_signature',
  }),
  refused({
    name: 'Standard Webhooks: signed with another secret',
    headers: () => signStandardWebhook(BODY, whsec()),
    code: 'invalid_signature',
  }),
  refused({
    name: 'Standard Webhooks: a timestamp that is not a number',
    headers: () => ({ ...sw(), 'webhook-timestamp': 'yesterday' }),
    code: 'invalid_timestamp',
  }),
  refused({
    name: 'Standard Webhooks: a timestamp in milliseconds',
    headers: () => ({ ...sw(), 'webhook-timestamp': String(Date.now()) }),
    code: 'invalid_timestamp',
  }),
  refused({
    name: 'Standard Webhooks: a signature of an unknown version',
    headers: () => {
      const h = sw();
      return { ...h, 'webhook-signature': h['webhook-signature'].replace(/^v1,/, 'v1a,') };
    },
    code: 'invalid_signature',
  }),
  refused({
    name: 'Standard Webhooks: fifty bogus signatures and no good one',
    headers: () => ({
      ...sw(),
      'webhook-signature': Array.from({ length: 50 }, () => `v1,${randomBytes(32).toString('base64')}`).join(' '),
    }),
    code: 'invalid_signature',
  }),
  refused({
    name: 'Standard Webhooks: no webhook-id',
    headers: () => {
      const { 'webhook-id': _id, ...rest } = sw();
      return rest;
    },
    code: 'missing_signature',
  }),
  refused({
    name: 'Standard Webhooks: the body-only HMAC instead (downgrade)',
    headers: () => ({ 'x-switchyard-signature': signGeneric(BODY, generic.signingSecret) }),
    code: 'missing_signature',
  }),
  refused({
    name: 'Standard Webhooks: a signed webhook-id that is a path',
    headers: () => sw({ id: '../../etc/passwd' }),
    status: 400,
    code: 'invalid_delivery_id',
  }),
];

const consentCases: ConsentCase[] = [
  {
    name: 'Connect callback: a forwarded consent link opened without the cookie',
    send: async () => fetchJson((await startedSignIn()).url, { redirect: 'manual' }),
    status: 403,
    text: /consent cookie is missing/,
  },
  {
    name: "Connect callback: another browser's consent cookie",
    send: async () => {
      const victim = await startedSignIn();
      const attacker = await startedSignIn();
      return fetchJson(victim.url, { redirect: 'manual', headers: { cookie: attacker.cookie } });
    },
    status: 403,
    text: /started in another browser/,
  },
  {
    name: 'Connect callback: a malformed consent cookie',
    send: async () =>
      fetchJson((await startedSignIn()).url, {
        redirect: 'manual',
        headers: { cookie: `switchyard_consent=${'%00'.repeat(20)}` },
      }),
    status: 403,
    text: /consent cookie is missing/,
  },
  {
    name: 'Mailbox sign-in callback without the cookie',
    send: () => fetchJson(`${stack.apiUrl}/azure/auth?code=abc&state=${'s'.repeat(43)}`, { redirect: 'manual' }),
    status: 403,
    text: /consent cookie is missing/,
  },
];

describe('hostile Standard Webhooks requests are refused and store nothing', () => {
  const target: HostileTarget<void, IngressCase> = {
    fixtures: () => undefined,
    snapshot: async () => ({ incoming_webhooks: await storedWebhooks() }),
    send: async (_c, request) => ({ res: await postGeneric(request.body!, request.headers) }),
  };
  test.each(ingressCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect((await runHostileCase(c, target)).problems).toEqual([]);
  });
});

describe('consent callbacks from a browser that did not start the flow are refused and change nothing', () => {
  test.each(consentCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await c.send();
    expect(res.status).toBe(c.status);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(res.text).toMatch(c.text);
    expect((await stack.request('GET', `/api/v1/integrations/${xeroId}/connection`)).body.connected).toBe(false);
  });

  test('the refused sign-ins are still pending: nothing was consumed', async () => {
    const { url } = await startedSignIn();
    const state = new URL(url).searchParams.get('state')!;
    const pendingBefore = await count('SELECT count(*) AS n FROM provider_connect_requests WHERE integration_id = $1', [
      xeroId,
    ]);
    expect((await fetchJson(url, { redirect: 'manual' })).status).toBe(403);
    expect(await count('SELECT count(*) AS n FROM provider_connect_requests WHERE integration_id = $1', [xeroId])).toBe(
      pendingBefore,
    );
    expect(state).toHaveLength(43);
  });
});

test('a captured Standard Webhooks request replayed: a duplicate answer, nothing new stored or forwarded', async () => {
  const body = JSON.stringify({ type: 'Invoice updated', id: `INV-${randomUUID()}` });
  const captured = signStandardWebhook(body, generic.signingSecret);
  const first = await postGeneric(body, captured);
  expect(first.status).toBe(202);
  await eventually(async () => receiver.requests('/forward').some((r) => r.body === body));
  const stored = await storedWebhooks();

  for (let i = 0; i < 3; i++) {
    const replay = await postGeneric(body, captured);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: first.body.id, duplicate: true });
  }
  // The same bytes under a new id: the id is signed, so the signature no longer fits.
  const renamed = await postGeneric(body, { ...captured, 'webhook-id': `msg_${randomUUID()}` });
  expect([renamed.status, renamed.body.error.code]).toEqual([401, 'invalid_signature']);

  await new Promise((r) => setTimeout(r, 1500));
  expect(await storedWebhooks()).toBe(stored);
  expect(receiver.requests('/forward').filter((r) => r.body === body)).toHaveLength(1);
});

describe('malformed master key settings are configuration errors naming the setting', () => {
  const key = randomBytes(32).toString('base64');
  test.each([
    ['SWITCHYARD_MASTER_KEY', 'c2hvcnQ=', /SWITCHYARD_MASTER_KEY: a master key must be base64 of 32 random bytes/],
    ['SWITCHYARD_MASTER_KEY', `bad id!:${key}`, /SWITCHYARD_MASTER_KEY: a master key id must be/],
    ['SWITCHYARD_MASTER_KEY', `a:${key},b:${key}`, /SWITCHYARD_MASTER_KEY: a master key must be/],
    ['SWITCHYARD_PREVIOUS_KEYS', `old:${key},not-a-key`, /SWITCHYARD_PREVIOUS_KEYS: a master key must be/],
  ])('%s = %s', (setting, value, message) => {
    expect(() => loadConfig({ [setting]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [setting]: value })).toThrow(message);
  });
});
