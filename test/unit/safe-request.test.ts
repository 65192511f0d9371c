import os from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  assertSafeUrl,
  BlockedDestinationError,
  isPrivateAddress,
  safeRequest,
} from '../../src/platform/http/safe-request';

test.each([
  ['127.0.0.1', true],
  ['10.1.2.3', true],
  ['172.20.0.1', true],
  ['192.168.1.1', true],
  ['169.254.169.254', true],
  ['100.64.0.1', true],
  ['0.0.0.0', true],
  ['::1', true],
  ['fe80::1', true],
  ['fd12::1', true],
  ['::ffff:127.0.0.1', true],
  ['64:ff9b::7f00:1', true],
  ['::7f00:1', true],
  ['2002:7f00:1::', true],
  ['8.8.8.8', false],
  ['2606:4700::1111', false],
])('%s private=%s', (address, expected) => {
  expect(isPrivateAddress(address)).toBe(expected);
});

const noLocal = { allowedHosts: [] };

test('literal private hosts, localhost, odd schemes and credentials in URLs are refused', () => {
  for (const url of [
    'http://127.0.0.1/x',
    'http://[::1]/x',
    'http://localhost:3000/',
    'http://169.254.169.254/latest/meta-data',
    'ftp://example.com/',
    'file:///etc/passwd',
    'https://user:pw@example.com/',
  ]) {
    expect(() => assertSafeUrl(url, noLocal)).toThrow(BlockedDestinationError);
  }
  expect(assertSafeUrl('https://example.com/hook', noLocal).hostname).toBe('example.com');
  expect(assertSafeUrl('http://127.0.0.1:9/x', { allowedHosts: ['127.0.0.1'] }).port).toBe('9');
});

test('a name that resolves to a private address is refused at connect time', async () => {
  // The machine's own name resolves to a loopback or private address on any host this runs on.
  const url = `http://${os.hostname()}:9/`;
  await expect(
    safeRequest({ method: 'GET', url, timeoutMs: 2000, policy: { allowedHosts: ['example.com'] } }),
  ).rejects.toThrow(/private or reserved/);
});

test('redirects are returned, not followed, and bodies are capped', async () => {
  const server = createServer((req, res) => {
    if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    else res.writeHead(200).end('x'.repeat(10_000));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const policy = { allowedHosts: ['127.0.0.1'] };
  const redirect = await safeRequest({ method: 'GET', url: `${base}/redirect`, timeoutMs: 2000, policy });
  expect(redirect.status).toBe(302);
  const big = await safeRequest({ method: 'GET', url: `${base}/big`, timeoutMs: 2000, policy, maxResponseBytes: 100 });
  expect(big.body).toHaveLength(100);
  expect(big.bodyTruncated).toBe(true);
  await new Promise<void>((r) => server.close(() => r()));
});

test('a slow endpoint times out', async () => {
  const server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await expect(
    safeRequest({ method: 'GET', url, timeoutMs: 300, policy: { allowedHosts: ['127.0.0.1'] } }),
  ).rejects.toThrow(/timed out/);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
