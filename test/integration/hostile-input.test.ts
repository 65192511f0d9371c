import { randomBytes } from 'node:crypto';
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { pruneRejectedRequests } from '../../src/platform/ingress/inbound-requests';
import { isPrivateAddress } from '../../src/platform/http/safe-request';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';
import {
  BODY_LIMIT,
  type CorpusCase,
  corpusTarget,
  type CorpusFixtures,
  METRICS_TOKEN,
  QBO_TOKEN,
  stateCounts,
  XERO_KEY,
} from './hostile/corpus';
import { incomingCases } from './hostile/incoming.cases';
import { graphNote, mailCases } from './hostile/mail.cases';
import { event, outgoingCases, webhook } from './hostile/outgoing.cases';
import { platformCases } from './hostile/platform.cases';
import { providerCases, xeroEvent } from './hostile/providers.cases';
import { form, hmac } from './hostile/payloads';
import { runHostileCase } from './hostile/runner';
import { createMadeUpQuickBooks } from './incoming-helpers';
import { createMadeUpMailbox, madeUpMailbox } from './mailbox-helpers';

/**
 * Hostile input across every ingress and admin route, the way an attacker or a broken provider
 * would send it. Each case must get a 4xx with the one error envelope, be in the inbound request
 * log when it came through ingress, and change nothing else (no row, no workflow). Then: no
 * outgoing path (MSAL, Graph, webhooks, forwards, Xero) may reach a listener on this machine.
 * The cases are tables per capability under hostile/; one stack serves them all.
 */

const TABLES: Array<[string, CorpusCase[]]> = [
  ['incoming', incomingCases],
  ['incoming providers', providerCases],
  ['mail', mailCases],
  ['outgoing', outgoingCases],
  ['platform', platformCases],
];

let stack: Stack;
let fixtures: CorpusFixtures;
let probe: net.Server;
let probePort = 0;
let probeHits = 0;

const counts = { cases: 0, fourxx: 0, fivexx: 0, hangs: 0, unwantedStateChanges: 0, missingFromLog: 0, badEnvelope: 0 };

async function workflowCount(): Promise<number> {
  let n = 0;
  for await (const _ of stack.temporal.workflow.list({ query: `TaskQueue = "${stack.taskQueue}"` })) n += 1;
  return n;
}

beforeAll(async () => {
  probe = net.createServer((socket) => {
    probeHits += 1;
    socket.destroy();
  });
  await new Promise<void>((r) => probe.listen(0, '0.0.0.0', r));
  probePort = (probe.address() as net.AddressInfo).port;
  stack = await startStack({
    // Nothing on this machine is allow-listed: every loopback/private target must be refused.
    OUTBOUND_ALLOWED_HOSTS: 'allowed.example',
    // Provider hosts are pinned; these cases are about the SSRF guard, so their hosts pass the pin.
    PROVIDER_CUSTOM_HOSTS: [
      '*.example',
      '*.example.net',
      '127.0.0.1',
      'localhost',
      '[::1]',
      '[64:ff9b::7f00:1]',
      '10.0.0.1',
      '169.254.169.254',
      os.hostname(),
    ].join(','),
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
    HTTP_REQUEST_TIMEOUT_MS: '3000',
    REJECTED_REQUESTS_PER_ADDRESS: '20',
    AUTH_FAILURES_PER_ADDRESS: '20',
    TOKEN_REQUESTS_PER_ADDRESS: '30',
    METRICS_TOKEN,
    // Each case comes from its own X-Forwarded-For address, sent from this host.
    TRUST_PROXY: 'loopback',
  });
  const g = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'hostile generic' });
  const x = await stack.request('POST', '/api/v1/integrations', {
    provider: 'xero',
    name: 'hostile xero',
    webhookKey: XERO_KEY,
    clientSecret: 'xero-client-secret-0123456789',
    refreshToken: 'refresh-token',
    settings: {
      clientId: 'app',
      tokenUrl: 'https://identity.xero.example/connect/token',
      apiBaseUrl: 'https://api.xero.example/api.xro/2.0',
    },
  });
  if (x.status !== 201) throw new Error(`xero integration: ${x.text}`);
  fixtures = {
    generic: g.body,
    xeroId: x.body.id,
    qboId: (await createMadeUpQuickBooks(stack, { name: 'hostile qbo', verifierToken: QBO_TOKEN })).id,
    mailboxId: (await createMadeUpMailbox(stack, { name: 'hostile mailbox' })).id,
    probePort,
  };
}, 180_000);

afterAll(async () => {
  // eslint-disable-next-line no-console -- the figures the closing note quotes
  console.log(`HOSTILE_INPUT ${JSON.stringify({ ...counts, ssrfHits: probeHits })}`);
  await stack?.stop();
  await new Promise((r) => probe?.close(r));
});

let addressSeq = 0;
/** Each case comes from its own address, as separate attackers would: the per-address limits are tested apart. */
const nextAddress = () => `203.0.113.${(addressSeq++ % 250) + 1}`;

describe('hostile requests, a table per capability: each 4xx, one envelope, logged, and nothing else changes', () => {
  const target = corpusTarget(
    () => stack,
    () => fixtures,
    nextAddress,
  );
  let stateBefore: Record<string, number>;
  let workflowsBefore: number;
  beforeAll(async () => {
    stateBefore = await stateCounts(stack);
    workflowsBefore = await workflowCount();
  });

  test('the tables hold 100+ cases', () => {
    expect(TABLES.flatMap(([, cases]) => cases).length).toBeGreaterThanOrEqual(100);
  });

  describe.each(TABLES)('%s', (_table, cases) => {
    test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      counts.cases += 1;
      const { res, problems } = await runHostileCase(c, target);
      if (res === 'hang') counts.hangs += 1;
      else if (res.status >= 500) counts.fivexx += 1;
      else if (res.status >= 400) counts.fourxx += 1;
      if (problems.some((p) => p.startsWith('not the '))) counts.badEnvelope += 1;
      if (problems.some((p) => p.startsWith('not in the inbound request log'))) counts.missingFromLog += 1;
      if (problems.some((p) => p.startsWith('changed '))) counts.unwantedStateChanges += 1;
      expect(problems).toEqual([]);
    });
  });

  test('the corpus as a whole left every table as it was, started no workflow and met no 5xx', async () => {
    expect(await stateCounts(stack)).toEqual(stateBefore);
    expect(await workflowCount()).toBe(workflowsBefore);
    expect(counts.fivexx).toBe(0);
  });
});

test('a false Content-Length gets an answer and a closed socket, never a hang', async () => {
  const port = Number(new URL(stack.apiUrl).port);
  const exchange = (contentLength: number) =>
    new Promise<{ status: number; closed: boolean }>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let data = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer for Content-Length ${contentLength}`));
      }, 15_000);
      socket.on('data', (d) => (data += d.toString('latin1')));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), closed: true });
      });
      socket.on('error', () => undefined);
      socket.write(
        `POST /hooks/generic/${fixtures.generic.id} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${nextAddress()}\r\nContent-Length: ${contentLength}\r\n\r\n`,
      );
    });
  for (const length of [2_000_000, 100]) {
    counts.cases += 1;
    const { status, closed } = await exchange(length).catch(() => {
      counts.hangs += 1;
      return { status: 0, closed: false };
    });
    if (status >= 400 && status < 500) counts.fourxx += 1;
    expect(closed).toBe(true);
    expect(status).toBe(length > BODY_LIMIT ? 413 : 408);
  }
});

test('rejected bodies are stored truncated; past the per-address limit: 429 and nothing stored; old ones are pruned', async () => {
  const address = '198.51.100.7';
  const big = 'y'.repeat(20_000);
  const statuses: number[] = [];
  for (let i = 0; i < 22; i++) {
    const res = await fetchJson(`${stack.apiUrl}/hooks/generic/${fixtures.generic.id}`, {
      method: 'POST',
      headers: { 'x-forwarded-for': address },
      body: big,
    });
    statuses.push(res.status);
  }
  expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
  expect(statuses.slice(20)).toEqual([429, 429]);
  const stored = await stack.db.query(
    'SELECT length(body) AS n, body_bytes FROM inbound_requests WHERE remote_addr = $1',
    [address],
  );
  expect(stored.rows).toHaveLength(20);
  for (const r of stored.rows) {
    expect(r.n).toBeLessThanOrEqual(4096);
    expect(r.body_bytes).toBe(20_000);
  }
  const rejected = Number(
    (await stack.db.query("SELECT count(*)::int AS n FROM inbound_requests WHERE outcome = 'rejected'")).rows[0].n,
  );
  expect(await pruneRejectedRequests(stack.db, new Date(0), 10)).toBe(rejected - 10);
  expect(await pruneRejectedRequests(stack.db, new Date(Date.now() + 60_000))).toBe(10);
});

test('failed authentications and token requests are rate limited per address', async () => {
  const address = '198.51.100.8';
  const statuses: number[] = [];
  for (let i = 0; i < 21; i++) {
    const res = await fetchJson(`${stack.apiUrl}/api/v1/webhooks`, {
      headers: { authorization: 'Bearer sy_key_wrong', 'x-forwarded-for': address },
    });
    statuses.push(res.status);
  }
  expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
  expect(statuses[20]).toBe(429);
  // Past the limit the right key still passes (a shared proxy address must not lock everyone
  // out); anything else waits.
  const right = await fetchJson(`${stack.apiUrl}/api/v1/webhooks`, {
    headers: { authorization: `Bearer ${stack.apiKey}`, 'x-forwarded-for': address },
  });
  expect(right.status).toBe(200);
  const still = await fetchJson(`${stack.apiUrl}/api/v1/webhooks`, { headers: { 'x-forwarded-for': address } });
  expect(still.status).toBe(429);
  expect(still.headers.get('retry-after')).toMatch(/^\d+$/);
  const token = await fetchJson(`${stack.apiUrl}/oauth2/token`, {
    method: 'POST',
    headers: { ...form, 'x-forwarded-for': address },
    body: 'grant_type=client_credentials&client_id=a&client_secret=b',
  });
  expect(token.status).toBe(429);
  const other = '198.51.100.9';
  const tokenStatuses: number[] = [];
  for (let i = 0; i < 31; i++) {
    const res = await fetchJson(`${stack.apiUrl}/oauth2/token`, {
      method: 'POST',
      headers: { ...form, 'x-forwarded-for': other },
      body: 'grant_type=password',
    });
    tokenStatuses.push(res.status);
  }
  expect(tokenStatuses.slice(0, 20).every((s) => s === 400)).toBe(true);
  expect(tokenStatuses[30]).toBe(429);
});

test('/metrics: token required, fixed label set, no mailbox or tenant identifiers', async () => {
  await fetchJson(`${stack.apiUrl}/hooks/evil-provider-label/x`, { method: 'POST', body: '{}' });
  await fetchJson(`${stack.apiUrl}/hooks/generic/${randomBytes(4).toString('hex')}`, { method: 'POST', body: '{}' });
  const res = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).not.toContain('evil-provider-label');
  expect(text).not.toContain(fixtures.mailboxId);
  expect(text).not.toContain('contoso');
  expect(text).not.toMatch(/budget="/);
  const providers = new Set([...text.matchAll(/provider="([^"]*)"/g)].map((m) => m[1]));
  for (const p of providers) expect(['generic', 'xero', 'quickbooks', 'graph', 'unknown']).toContain(p);
  const routes = [...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]!);
  for (const r of routes) expect(r).not.toMatch(/[0-9a-f]{8}-|evil/);
});

test('Graph clientState is never readable back through the API', async () => {
  const secretGuess = `client-state-${randomBytes(8).toString('hex')}`;
  const res = await fetchJson(`${stack.apiUrl}/hooks/graph/${fixtures.mailboxId}/notifications`, {
    method: 'POST',
    headers: { 'x-forwarded-for': '198.51.100.20' },
    body: JSON.stringify(graphNote({ clientState: secretGuess })),
  });
  expect(res.status).toBe(401);
  const stored = await stack.db.query("SELECT body FROM inbound_requests WHERE remote_addr = '198.51.100.20'");
  expect(stored.rows).toHaveLength(1);
  expect(stored.rows[0].body).toContain('[redacted]');
  for (const path of [
    '/api/v1/inbound-requests?limit=500',
    `/api/v1/mailboxes/${fixtures.mailboxId}`,
    '/api/v1/mailboxes',
    `/api/v1/mailboxes/${fixtures.mailboxId}/inbound-log`,
  ]) {
    const r = await stack.request('GET', path);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(secretGuess);
  }
});

test('no outgoing path reaches a listener on this machine (MSAL, Graph, webhooks, forwards, Xero)', async () => {
  // A name, not a literal: it passes the API's checks and must be refused where it connects.
  const hostname = os.hostname();
  const resolved = await dns.lookup(hostname, { all: true });
  expect(resolved.some((a) => isPrivateAddress(a.address))).toBe(true);
  const at = (path: string) => `https://${hostname}:${probePort}${path}`;

  // A webhooks mailbox whose custom authority (login, Graph, token endpoint) is this machine.
  const authority = {
    kind: 'custom',
    loginUrl: at(''),
    graphUrl: at(''),
    authorityMetadata: {
      token_endpoint: at('/t/oauth2/v2.0/token'),
      authorization_endpoint: at('/t/oauth2/v2.0/authorize'),
      issuer: at('/t/v2.0'),
    },
  };
  const hooked = await stack.request('POST', '/api/v1/mailboxes', madeUpMailbox({ name: 'ssrf webhooks', authority }));
  expect(hooked.status).toBe(201);
  const sub = await stack.request('POST', `/api/v1/mailboxes/${hooked.body.id}/subscription`);
  expect(sub.status).toBeGreaterThanOrEqual(200);
  // And a scan mailbox: the sign-in link is built (MSAL) without touching the authority.
  const scan = await stack.request('POST', '/api/v1/mailboxes', {
    ...madeUpMailbox({ name: 'ssrf scan', authority, method: 'scan' }),
    emailAddress: undefined,
  });
  expect(scan.status).toBe(201);
  await stack.request('POST', `/api/v1/mailboxes/${scan.body.id}/authorize`);

  // An outgoing webhook and a generic integration's forward to this machine.
  const hook = await stack.request(
    'POST',
    '/api/v1/webhooks',
    webhook({ url: `http://${hostname}:${probePort}/hook` }),
  );
  expect(hook.status).toBe(201);
  const emitted = await stack.request('POST', '/api/v1/events', event({ objectId: 'T-ssrf' }));
  expect(emitted.status).toBe(202);
  const fwd = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'ssrf forward',
    settings: { forwardUrl: `http://${hostname}:${probePort}/fwd` },
  });
  expect(fwd.status).toBe(201);
  const body = JSON.stringify({ type: 'Ticket Changed', id: 'T-ssrf' });
  const accepted = await fetchJson(`${stack.apiUrl}/hooks/generic/${fwd.body.id}`, {
    method: 'POST',
    headers: { ...signStandardWebhook(body, fwd.body.signingSecret) },
    body,
  });
  expect(accepted.status).toBe(202);

  // A Xero integration whose token endpoint is this machine, with a signed event to process.
  const xero = await stack.request('POST', '/api/v1/integrations', {
    provider: 'xero',
    name: 'ssrf xero',
    webhookKey: XERO_KEY,
    clientSecret: 'xero-client-secret-0123456789',
    refreshToken: 'refresh-token',
    settings: { clientId: 'app', tokenUrl: at('/connect/token'), apiBaseUrl: at('/api.xro/2.0') },
  });
  expect(xero.status).toBe(201);
  const xeroBody = Buffer.from(JSON.stringify(xeroEvent()));
  const xeroRes = await fetchJson(`${stack.apiUrl}/hooks/xero/${xero.body.id}`, {
    method: 'POST',
    headers: { 'x-xero-signature': hmac(XERO_KEY, xeroBody) },
    body: xeroBody,
  });
  expect(xeroRes.status).toBeLessThan(300);

  // Each path has tried and been refused: the refusals are recorded where each path records errors.
  await eventually(async () => {
    const attempts = await stack.db.query('SELECT count(*)::int AS n FROM delivery_attempts');
    const incoming = await stack.db.query(
      "SELECT count(*)::int AS n FROM incoming_webhook_attempts WHERE error IS NOT NULL OR status <> 'succeeded'",
    );
    const mailboxError = await stack.db.query('SELECT last_error FROM mailboxes WHERE id = $1', [hooked.body.id]);
    return attempts.rows[0].n > 0 && incoming.rows[0].n >= 2 && (mailboxError.rows[0].last_error || sub.status >= 400);
  }, 60_000);
  expect(probeHits).toBe(0);
});
