import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@microsoft/microsoft-graph-client';
import { graphMiddleware, msalNetworkClient } from './safe-transport';

let server: Server;
let base: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits += 1;
    if (req.url?.startsWith('/v1.0/redirect')) res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    else if (req.url?.startsWith('/v1.0/empty')) res.writeHead(204).end();
    else
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: true, auth: req.headers.authorization ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

const graph = (allowedHosts: string[]) =>
  Client.initWithMiddleware({
    middleware: graphMiddleware(
      { getAccessToken: () => Promise.resolve('tok') },
      { policy: { allowedHosts }, timeoutMs: 2000 },
    ),
    baseUrl: base,
    customHosts: new Set(['127.0.0.1']),
    defaultVersion: 'v1.0',
  });

test('the Graph client goes through the guard: loopback refused unless allow-listed', async () => {
  const before = hits;
  await expect(graph([]).api('/me').get()).rejects.toMatchObject({ code: 'BlockedDestinationError' });
  expect(hits).toBe(before);
  // (The SDK attaches the token over https only; this listener is plain http.)
  await expect(graph(['127.0.0.1']).api('/me').get()).resolves.toMatchObject({ ok: true });
});

test('the Graph client does not follow redirects; empty answers are empty', async () => {
  const before = hits;
  await expect(graph(['127.0.0.1']).api('/redirect').get()).rejects.toMatchObject({ statusCode: 302 });
  expect(hits).toBe(before + 1);
  await expect(graph(['127.0.0.1']).api('/empty').patch({ isRead: true })).resolves.toBeFalsy();
});

test('MSAL calls go through the guard and surface a refusal as blocked_destination', async () => {
  const before = hits;
  await expect(
    msalNetworkClient({ policy: { allowedHosts: [] }, timeoutMs: 2000 }).sendGetRequestAsync(`${base}/x`),
  ).rejects.toMatchObject({
    errorCode: 'blocked_destination',
  });
  expect(hits).toBe(before);
  const ok = await msalNetworkClient({
    policy: { allowedHosts: ['127.0.0.1'] },
    timeoutMs: 2000,
  }).sendPostRequestAsync<{ ok: boolean }>(`${base}/t`, { body: 'a=b' });
  expect(ok.body.ok).toBe(true);
});
