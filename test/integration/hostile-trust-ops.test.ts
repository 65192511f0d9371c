import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildQuickBooksCloudEventsPayload } from '../emulators/webhook-sender';
import { ROOT } from '../harness/paths';
import { ProductProcess } from '../harness/processes';
import { eventually, fetchJson, requestClientToken, startStack, type ApiResponse, type Stack } from '../harness/stack';
import { type HostileCase, type HostileTarget, runHostileCase } from './hostile/runner';
import { createMadeUpQuickBooks } from './incoming-helpers';

/**
 * Trust boundaries of the operational surface, the way an outsider probes them: /metrics and
 * /readyz on an exposed API, the failed-authentication limiter behind a proxy, security headers,
 * and QuickBooks notifications with times that are not times. Three API processes share one
 * database and worker:
 *  - `exposed`: HTTP_HOST=0.0.0.0, no METRICS_TOKEN, TRUST_PROXY unset (the stack's own API);
 *  - `proxied`: HTTP_HOST=0.0.0.0, METRICS_TOKEN, a 300 s metrics cache, TRUST_PROXY=loopback;
 *  - `local`: loopback, no token, no metrics cache, Temporal reached through a TCP relay this
 *    test can cut.
 */

const METRICS_TOKEN = 'trust-ops-metrics-token-0123456789';
const QBO_TOKEN = 'trust-ops-qbo-verifier-0123456789';
const REALM = '4620816365257778210';
const AUTH_FAILURES = 5;

type Api = 'exposed' | 'proxied' | 'local';

let stack: Stack;
let proxied: ProductProcess;
let local: ProductProcess;
let relay: TcpRelay;
const urls: Record<Api, string> = { exposed: '', proxied: '', local: '' };
let generic: { id: string };
let qboId: string;
let app: { clientId: string; clientSecret: string };
let appToken: string;

/** A TCP relay to Temporal's frontend that can be cut: Temporal "down" for one API only. */
interface TcpRelay {
  port: number;
  cut(): void;
  close(): Promise<void>;
}

async function tcpRelay(target: string): Promise<TcpRelay> {
  const [host, port] = target.split(':');
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const hmac = (key: string, body: string) => createHmac('sha256', key).update(body).digest('base64');

async function startApi(env: NodeJS.ProcessEnv): Promise<[ProductProcess, string]> {
  const api = new ProductProcess('src/server.ts', env);
  const m = await api.start(/"port":(\d+),"msg":"api listening"/);
  return [api, `http://127.0.0.1:${m[1]}`];
}

beforeAll(async () => {
  stack = await startStack({
    HTTP_HOST: '0.0.0.0',
    AUTH_FAILURES_PER_ADDRESS: String(AUTH_FAILURES),
    // The QuickBooks integration below names made-up provider hosts: allowed past the pin.
    PROVIDER_CUSTOM_HOSTS: '*.intuit.example',
  });
  urls.exposed = stack.apiUrl;
  relay = await tcpRelay(stack.env['TEMPORAL_ADDRESS']!);
  [[proxied, urls.proxied], [local, urls.local]] = await Promise.all([
    startApi({
      ...stack.env,
      HTTP_HOST: '0.0.0.0',
      METRICS_TOKEN,
      METRICS_CACHE_SECONDS: '300',
      TRUST_PROXY: 'loopback',
      AUTH_FAILURES_PER_ADDRESS: String(AUTH_FAILURES),
    }),
    startApi({
      ...stack.env,
      HTTP_HOST: '127.0.0.1',
      METRICS_CACHE_SECONDS: '0',
      TEMPORAL_ADDRESS: `127.0.0.1:${relay.port}`,
    }),
  ]);
  generic = (await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'trust generic' })).body;
  qboId = (await createMadeUpQuickBooks(stack, { name: 'trust qbo', verifierToken: QBO_TOKEN })).id;
  const a = await stack.request('POST', '/api/v1/api-clients', { name: 'trust app', kind: 'application' });
  app = a.body;
  appToken = (await requestClientToken(stack.apiUrl, app)).body.access_token;
}, 240_000);

afterAll(async () => {
  await Promise.all([proxied?.stop(), local?.stop()]);
  await relay?.close();
  await stack?.stop();
});

const incomingCount = async () =>
  Number(
    (await stack.db.query('SELECT count(*)::int AS n FROM incoming_webhooks WHERE integration_id = $1', [qboId]))
      .rows[0].n,
  );

/** A CloudEvents notification for one invoice, `time` as given, signed with the verifier token. */
const cloudEvents = (time: string) =>
  JSON.stringify(
    buildQuickBooksCloudEventsPayload(REALM, [{ name: 'Invoice', id: '1042', operation: 'Update' }]).map((e) => ({
      ...e,
      time,
    })),
  );
const legacy = (lastUpdated: string) =>
  JSON.stringify({
    eventNotifications: [
      {
        realmId: REALM,
        dataChangeEvent: { entities: [{ name: 'Invoice', id: '1042', operation: 'Update', lastUpdated }] },
      },
    ],
  });

const CSP = /default-src 'self'.*frame-ancestors 'none'/;
const securityHeaders = (res: ApiResponse) => {
  expect(res.headers.get('content-security-policy')).toMatch(CSP);
  expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
};

/** What a raw readiness answer must never show an anonymous caller. */
const LEAKS = /ECONNREFUSED|UNAVAILABLE|timed out|127\.0\.0\.1|postgres:\/\/|password|error/i;

/** A request to one of the three APIs; `check` holds what else its answer must show. */
type Case = HostileCase<void> & { api: Api };

const bearer = (token: string) => () => ({ authorization: `Bearer ${token}` });
/** A POST to the QuickBooks hook signed over exactly the body sent (made once: CloudEvents ids are random). */
const signedQbo = (make: () => string) => {
  let made: string | undefined;
  const body = () => (made ??= make());
  return {
    path: () => `/hooks/quickbooks/${qboId}`,
    body,
    headers: () => ({ 'content-type': 'application/json', 'intuit-signature': hmac(QBO_TOKEN, body()) }),
  };
};
const badTime = (name: string, body: () => string): Case => ({
  name,
  api: 'exposed',
  ...signedQbo(body),
  status: 400,
  code: 'invalid_payload',
  check: (res) =>
    expect(res.body.error.message).toMatch(/(time|lastUpdated): must be an (RFC 3339|ISO 8601) date-time/),
});

const CASES: Case[] = [
  // ---- /metrics ----
  {
    name: 'metrics: anonymous scrape of an API on 0.0.0.0 without a token configured',
    api: 'exposed',
    path: () => '/metrics',
    status: 403,
    code: 'metrics_token_required',
    check: (res) => expect(res.text).not.toMatch(/switchyard_/),
  },
  {
    name: 'metrics: a made-up bearer token where none is configured',
    api: 'exposed',
    path: () => '/metrics',
    headers: bearer('x'.repeat(32)),
    status: 403,
    code: 'metrics_token_required',
  },
  { name: 'metrics: anonymous scrape where a token is set', api: 'proxied', path: () => '/metrics', status: 401 },
  {
    name: 'metrics: the wrong token',
    api: 'proxied',
    path: () => '/metrics',
    headers: bearer(`${METRICS_TOKEN}x`),
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'metrics: the token in the query string instead of the header',
    api: 'proxied',
    path: () => `/metrics?token=${METRICS_TOKEN}`,
    status: 401,
  },
  {
    name: 'metrics: anonymous on a loopback-only API is this host asking, and allowed',
    api: 'local',
    path: () => '/metrics',
    status: 200,
    check: (res) => expect(res.text).toMatch(/switchyard_metrics_collections_total/),
  },
  // ---- /readyz ----
  {
    name: 'readyz: anonymous gets the status and which part is up, no backlog',
    api: 'exposed',
    path: () => '/readyz',
    status: 200,
    check: (res) =>
      expect(res.body).toEqual({ status: 'ready', checks: { postgres: { ok: true }, temporal: { ok: true } } }),
  },
  {
    name: 'readyz: a wrong bearer is anonymous',
    api: 'proxied',
    path: () => '/readyz',
    headers: bearer('sy_key_not-a-real-key'),
    status: 200,
    check: (res) => expect(res.body.intake).toBeUndefined(),
  },
  {
    name: 'readyz: an application access token is not an admin',
    api: 'proxied',
    path: () => '/readyz',
    headers: () => ({ authorization: `Bearer ${appToken}` }),
    status: 200,
    check: (res) => expect(res.body.intake).toBeUndefined(),
  },
  {
    name: 'readyz: the metrics token sees the details',
    api: 'proxied',
    path: () => '/readyz',
    headers: bearer(METRICS_TOKEN),
    status: 200,
    check: (res) => expect(res.body.intake).toMatchObject({ pending: expect.any(Number) }),
  },
  // ---- QuickBooks times ----
  badTime('qbo: CloudEvents time "1" (JavaScript would read 2001)', () => cloudEvents('1')),
  badTime('qbo: CloudEvents time on February 30', () => cloudEvents('2026-02-30T10:00:00Z')),
  badTime('qbo: CloudEvents time without a zone', () => cloudEvents('2026-03-01T10:00:00')),
  badTime('qbo: CloudEvents time in words', () => cloudEvents('March 1, 2026 10:00 UTC')),
  badTime('qbo: CloudEvents time at hour 24', () => cloudEvents('2026-03-01T24:00:00Z')),
  badTime('qbo: CloudEvents time as a number', () => cloudEvents('1772359200')),
  badTime('qbo: legacy lastUpdated "1"', () => legacy('1')),
  // ---- security headers ----
  { name: 'headers: the console page', api: 'exposed', path: () => '/console/', status: 200 },
  { name: 'headers: a console script', api: 'exposed', path: () => '/console/app.js', status: 200 },
  { name: 'headers: an unauthenticated API call', api: 'exposed', path: () => '/api/v1/webhooks', status: 401 },
  { name: 'headers: a path that does not exist', api: 'exposed', path: () => '/nothing/here', status: 404 },
  {
    name: 'headers: an unsigned ingress request',
    api: 'exposed',
    path: () => `/hooks/generic/${generic.id}`,
    body: '{"a":1}',
    status: 401,
  },
];

describe('hostile requests to the operational surface', () => {
  // Nothing a refused request sends is stored as an incoming webhook.
  const target: HostileTarget<void, Case> = {
    fixtures: () => undefined,
    snapshot: async () => ({ incoming_webhooks: await incomingCount() }),
    send: async (c, request) => ({
      res: await fetchJson(`${urls[c.api]}${request.path}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
      }),
    }),
  };

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { res, problems } = await runHostileCase(c, target);
    expect(problems).toEqual([]);
    if (res !== 'hang') securityHeaders(res);
  });

  test('the same notification with an RFC 3339 time is accepted: the refusals above were about the time', async () => {
    const body = cloudEvents('2026-03-01T10:00:00.250+01:00');
    const res = await fetchJson(`${urls.exposed}/hooks/quickbooks/${qboId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'intuit-signature': hmac(QBO_TOKEN, body) },
      body,
    });
    expect(res.status).toBe(200);
    const stored = await stack.db.query('SELECT event_at FROM incoming_webhooks WHERE integration_id = $1', [qboId]);
    expect(stored.rows.map((r) => (r.event_at as Date).toISOString())).toEqual(['2026-03-01T09:00:00.250Z']);
    const refused = await stack.db.query(
      "SELECT count(*)::int AS n FROM inbound_requests WHERE path LIKE $1 AND outcome = 'rejected' AND response_status = 400",
      [`%${qboId}%`],
    );
    expect(refused.rows[0].n).toBe(CASES.filter((c) => c.name.startsWith('qbo:')).length);
  });
});

describe('X-Forwarded-For is believed only from a TRUST_PROXY', () => {
  const sendUnsigned = (api: Api, forwardedFor: string) =>
    fetchJson(`${urls[api]}/hooks/generic/${generic.id}`, {
      method: 'POST',
      headers: { 'x-forwarded-for': forwardedFor },
      body: `{"from":"${forwardedFor}"}`,
    });
  const storedAddress = async (forwardedFor: string) =>
    (await stack.db.query('SELECT remote_addr FROM inbound_requests WHERE body LIKE $1', [`%${forwardedFor}%`])).rows[0]
      ?.remote_addr;

  test('without TRUST_PROXY the logged address is the socket, whatever the header says', async () => {
    expect((await sendUnsigned('exposed', '203.0.113.77')).status).toBe(401);
    expect(await storedAddress('203.0.113.77')).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  test('with TRUST_PROXY=loopback the proxy on this host names the client', async () => {
    expect((await sendUnsigned('proxied', '203.0.113.78')).status).toBe(401);
    expect(await storedAddress('203.0.113.78')).toBe('203.0.113.78');
  });
});

describe('the failed-authentication limiter', () => {
  const call = (api: Api, address: string, authorization?: string) =>
    fetchJson(`${urls[api]}/api/v1/webhooks`, {
      headers: { 'x-forwarded-for': address, ...(authorization ? { authorization } : {}) },
    });
  const token = (address: string, secret: string) =>
    requestClientToken(urls.proxied, { clientId: app.clientId, clientSecret: secret }, { 'x-forwarded-for': address });
  const attacker = '198.51.100.66';

  // One after the other: each step depends on the counts the earlier ones left.
  const STEPS: Array<[string, () => Promise<ApiResponse>, number]> = [
    ...Array.from({ length: AUTH_FAILURES }, (_, i): [string, () => Promise<ApiResponse>, number] => [
      `wrong key ${i + 1} of ${AUTH_FAILURES}`,
      () => call('proxied', attacker, 'Bearer sy_key_guess'),
      401,
    ]),
    ['one more wrong key: limited', () => call('proxied', attacker, 'Bearer sy_key_guess'), 429],
    ['no credentials at all: still limited', () => call('proxied', attacker), 429],
    ['a valid API key from the same address passes', () => call('proxied', attacker, `Bearer ${stack.apiKey}`), 200],
    ['a wrong client secret from that address: limited', () => token(attacker, 'not-the-secret'), 429],
    ['the right client secret from that address gets a token', () => token(attacker, app.clientSecret), 200],
    ['after the valid calls, anonymous is still limited', () => call('proxied', attacker, 'Bearer sy_key_x'), 429],
    ['another address behind the same proxy is counted apart', () => call('proxied', '198.51.100.67'), 401],
  ];

  test.each(STEPS.map(([name, send, status], i) => [i + 1, name, send, status] as const))(
    'step %i: %s',
    async (_i, _name, send, status) => {
      const res = await send();
      expect(res.status).toBe(status);
      if (status === 429) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    },
  );

  test('without TRUST_PROXY a changing X-Forwarded-For does not reset the count; a valid key still passes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= AUTH_FAILURES; i++) {
      statuses.push((await call('exposed', `192.0.2.${i + 1}`, 'Bearer sy_key_guess')).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect((await call('exposed', '192.0.2.99', `Bearer ${stack.apiKey}`)).status).toBe(200);
  });
});

describe('/metrics is rendered once per METRICS_CACHE_SECONDS', () => {
  const collections = (text: string) => Number(/^switchyard_metrics_collections_total (\d+)$/m.exec(text)?.[1]);
  const scrape = async (api: Api) => {
    const res = await fetch(`${urls[api]}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    return collections(await res.text());
  };

  test('a storm of scrapes within the window shares one rendering (one set of table counts)', async () => {
    const burst = await Promise.all(Array.from({ length: 20 }, () => scrape('proxied')));
    const after: number[] = [];
    for (let i = 0; i < 10; i++) after.push(await scrape('proxied'));
    const seen = new Set([...burst, ...after]);
    expect(seen.size).toBe(1);
    expect([...seen][0]).toBeGreaterThanOrEqual(1);
  });

  test('with METRICS_CACHE_SECONDS=0 every scrape renders: the counter counts renderings', async () => {
    const first = await scrape('local');
    expect([await scrape('local'), await scrape('local')]).toEqual([first + 1, first + 2]);
  });
});

describe('/readyz with Temporal unreachable', () => {
  beforeAll(async () => {
    relay.cut();
    await eventually(async () => (await fetchJson(`${urls.local}/readyz`)).status === 503, 30_000, 500);
  });

  test('anonymous: which part is down, never the error text', async () => {
    const res = await fetchJson(`${urls.local}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      status: 'unready',
      down: ['temporal'],
      checks: { postgres: { ok: true }, temporal: { ok: false } },
    });
    expect(res.text).not.toMatch(LEAKS);
    expect(res.text).not.toContain(String(relay.port));
    securityHeaders(res);
  });

  test('an unknown key is anonymous', async () => {
    const res = await fetchJson(`${urls.local}/readyz`, { headers: { authorization: 'Bearer sy_key_nope' } });
    expect(res.status).toBe(503);
    expect(res.text).not.toMatch(LEAKS);
  });

  test('an admin API key reads the error', async () => {
    const res = await fetchJson(`${urls.local}/readyz`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
    expect(res.status).toBe(503);
    expect(res.body.checks.temporal).toEqual({ ok: false, error: expect.any(String) });
    expect(res.body.checks.temporal.error.length).toBeGreaterThan(0);
  });
});

test('the worker starts without a pg DeprecationWarning (no query on a client the pool is handing out)', async () => {
  // At a lowered priority (nice), the worker lowers its PostgreSQL backends too: that hook used
  // to query each new pool client while its caller was already querying it.
  const child = spawn(
    'nice',
    ['-n', '5', process.execPath, '--trace-deprecation', '--import', 'tsx', path.join(ROOT, 'src/worker.ts')],
    { cwd: ROOT, env: { ...stack.env, TEMPORAL_TASK_QUEUE: `trust-ops-${randomBytes(4).toString('hex')}` } },
  );
  const spawnedAt = new Date();
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await eventually(async () => output.includes('worker running'), 90_000, 250);
    // The backends it opened now run at its priority: the hook ran (and a warning would have been printed).
    const lowered = await eventually(async () => {
      const { rows } = await stack.db.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'switchyard-worker' AND backend_start >= $1",
        [spawnedAt],
      );
      const nice = rows.map((r) => {
        try {
          return os.getPriority(r.pid);
        } catch {
          return 0;
        }
      });
      return nice.some((n) => n > 0) ? nice : undefined;
    }, 30_000);
    expect(lowered.length).toBeGreaterThan(0);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  expect(output).toContain('worker stopped');
  expect(output).not.toMatch(/DeprecationWarning/);
}, 150_000);
