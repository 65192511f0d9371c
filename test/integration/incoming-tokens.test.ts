import { randomBytes, randomUUID } from 'node:crypto';
import { insertIntegration } from '../../src/incoming/db/integrations';
import { createPool, type Db } from '../../src/platform/db/pool';
import { SecretBox } from '../../src/platform/security/secret-box';
import type { QuickBooksEmulator } from '../emulators/quickbooks';
import type { XeroEmulator } from '../emulators/xero';
import { createTestDatabase } from '../harness/stack';
import {
  QBO_CLIENT,
  quickBooksConsent,
  sleep,
  startQuickBooks,
  startXero,
  XERO_CLIENT,
  xeroConsent,
} from './incoming-helpers';

import type * as OAuthTokens from '../../src/incoming/oauth-tokens';
import type * as RateBudget from '../../src/incoming/rate-budget';

type TokensModule = typeof OAuthTokens;
type BudgetModule = typeof RateBudget;

// Each "process" gets its own copy of the modules (so its own in-process single-flight) and
// its own connection pool: only PostgreSQL is shared, as between real workers.
function processes<T>(n: number, path: string): T[] {
  return Array.from({ length: n }, () => {
    let mod: T | undefined;
    jest.isolateModules(() => {
      mod = require(path) as T; // eslint-disable-line @typescript-eslint/no-require-imports
    });
    return mod!;
  });
}

const REALM = '4620816365263748';
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pools: Db[];
let qbo: QuickBooksEmulator;
let xero: XeroEmulator;
let qboRefreshToken: string;
const box = new SecretBox(randomBytes(32));

beforeAll(async () => {
  database = await createTestDatabase();
  pools = [1, 2, 3].map(() => createPool(database.url, 4));
  ({ qbo, refreshToken: qboRefreshToken } = await startQuickBooks(REALM));
  ({ xero } = await startXero(randomUUID()));
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await database?.drop();
  await qbo?.stop();
  await xero?.stop();
});

async function integrationRow(provider: 'xero' | 'quickbooks') {
  const id = randomUUID();
  await insertIntegration(database.db, {
    id,
    provider,
    name: 'token test',
    processing_method: 'default',
    settings: {},
    secrets_enc: box.encryptJson({}, `integration:${id}`),
    enabled: true,
  });
  return id;
}

const deps = (db: Db) => ({
  db,
  secrets: box,
  policy: { allowedHosts: ['127.0.0.1'] },
  timeoutMs: 5000,
  tokenSkewSeconds: 60,
  tokenLeaseSeconds: 10,
});

/** The QuickBooks emulator's token endpoint for our app, starting from `refreshToken`. */
const qboRefreshClient = (integrationId: string, refreshToken: string) => ({
  integrationId,
  tokenUrl: `${qbo.url}/oauth2/v1/tokens/bearer`,
  clientId: QBO_CLIENT.clientId,
  clientSecret: QBO_CLIENT.clientSecret,
  grantType: 'refresh_token' as const,
  initialRefreshToken: refreshToken,
});

/** The Xero emulator's token endpoint for our app: a refresh-token client, or a custom connection without one. */
const xeroClient = (integrationId: string, refreshToken?: string) => ({
  integrationId,
  tokenUrl: `${xero.url}/connect/token`,
  clientId: XERO_CLIENT.clientId,
  clientSecret: XERO_CLIENT.clientSecret,
  ...(refreshToken === undefined
    ? { grantType: 'client_credentials' as const }
    : { grantType: 'refresh_token' as const, initialRefreshToken: refreshToken }),
});

test('30 concurrent callers in 3 processes: one refresh, one token; the rotated refresh token is kept and works', async () => {
  const integrationId = await integrationRow('quickbooks');
  const client = qboRefreshClient(integrationId, qboRefreshToken);
  const mods = processes<TokensModule>(3, '../../src/incoming/oauth-tokens');
  const askAll = () =>
    Promise.all(mods.flatMap((m, i) => Array.from({ length: 10 }, () => m.getAccessToken(deps(pools[i]!), client))));
  const refreshesBefore = qbo.stats().tokenRefreshes;

  const first = await askAll();
  expect(new Set(first.map((t) => t.accessToken)).size).toBe(1);
  expect(qbo.stats().tokenRefreshes - refreshesBefore).toBe(1);

  // Expire it: everyone needs a new one at once. QuickBooks refuses a rotated-out refresh
  // token, so this second refresh only works if the first one's new token was stored.
  await database.db.query('UPDATE provider_tokens SET access_expires_at = now() WHERE integration_id = $1', [
    integrationId,
  ]);
  const second = await askAll();
  expect(new Set(second.map((t) => t.accessToken)).size).toBe(1);
  expect(second[0]!.accessToken).not.toBe(first[0]!.accessToken);
  expect(qbo.stats().tokenRefreshes - refreshesBefore).toBe(2);
  expect(qbo.stats().tokenErrors).toBe(0);

  const api = await fetch(
    `${qbo.url}/v3/company/${REALM}/query?query=${encodeURIComponent('select * from Customer')}`,
    {
      headers: { authorization: `Bearer ${second[0]!.accessToken}`, accept: 'application/json' },
    },
  );
  expect(api.status).toBe(200);
  const row = await database.db.query(
    'SELECT tokens_enc, refresh_count, refresh_lease_owner FROM provider_tokens WHERE integration_id = $1',
    [integrationId],
  );
  expect(row.rows[0]).toMatchObject({ refresh_count: 2, refresh_lease_owner: null });
  expect(row.rows[0].tokens_enc).not.toContain(second[0]!.accessToken);
});

test('a Xero custom connection gets one client-credentials token for many callers', async () => {
  const integrationId = await integrationRow('xero');
  const client = xeroClient(integrationId);
  const mods = processes<TokensModule>(2, '../../src/incoming/oauth-tokens');
  const tokens = await Promise.all(
    mods.flatMap((m, i) => Array.from({ length: 8 }, () => m.getAccessToken(deps(pools[i]!), client))),
  );
  expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  expect(xero.stats().tokenGrantsByType['client_credentials']).toBe(1);
});

test('a refused refresh token is a permanent error and frees the lease at once', async () => {
  const integrationId = await integrationRow('quickbooks');
  const [m] = processes<TokensModule>(1, '../../src/incoming/oauth-tokens');
  const client = qboRefreshClient(integrationId, 'AB11-not-a-real-token');
  await expect(m!.getAccessToken(deps(pools[0]!), client)).rejects.toMatchObject({
    name: 'TokenRefreshError',
    permanent: true,
  });
  const started = Date.now();
  await expect(m!.getAccessToken(deps(pools[1]!), client)).rejects.toMatchObject({ permanent: true });
  expect(Date.now() - started).toBeLessThan(2000);
  const row = await database.db.query('SELECT last_error FROM provider_tokens WHERE integration_id = $1', [
    integrationId,
  ]);
  expect(row.rows[0].last_error).toMatch(/invalid_grant/);
});

describe('rate budget shared across processes', () => {
  const spec = (key: string, over: Partial<RateBudget.BudgetSpec> = {}) => ({
    key,
    rules: [{ name: 'minute', limit: 10, windowMs: 60_000 }],
    concurrent: 100,
    leaseMs: 30_000,
    marginMs: 1000,
    ...over,
  });

  test('60 concurrent takers in 3 processes get exactly the 10 calls a minute allows', async () => {
    const mods = processes<BudgetModule>(3, '../../src/incoming/rate-budget');
    const key = `test:${randomUUID()}`;
    const results = await Promise.all(
      mods.flatMap((m, i) => Array.from({ length: 20 }, () => m.tryAcquire(pools[i]!, spec(key)))),
    );
    const granted = results.filter((r) => r.ok);
    expect(granted).toHaveLength(10);
    for (const r of results) {
      if (!r.ok) {
        expect(r.reason).toBe('minute');
        expect(r.waitMs).toBeGreaterThan(55_000);
        expect(r.waitMs).toBeLessThanOrEqual(61_000);
      }
    }
  });

  test('the concurrency limit holds and frees when a lease is released', async () => {
    const [m] = processes<BudgetModule>(1, '../../src/incoming/rate-budget');
    const key = `test:${randomUUID()}`;
    const s = spec(key, { concurrent: 2 });
    const a = await m!.tryAcquire(pools[0]!, s);
    const b = await m!.tryAcquire(pools[1]!, s);
    const c = await m!.tryAcquire(pools[2]!, s);
    expect([a.ok, b.ok, c.ok]).toEqual([true, true, false]);
    expect(c).toMatchObject({ reason: 'concurrent' });
    if (a.ok) await m!.releaseLease(pools[0]!, a.leaseId);
    expect((await m!.tryAcquire(pools[2]!, s)).ok).toBe(true);
  });

  test("a provider's Retry-After blocks the tenant for every process", async () => {
    const mods = processes<BudgetModule>(2, '../../src/incoming/rate-budget');
    const key = `test:${randomUUID()}`;
    await mods[0]!.blockBudget(pools[0]!, key, 5000, '429 minute');
    const r = await mods[1]!.tryAcquire(pools[1]!, spec(key));
    expect(r).toMatchObject({ ok: false, reason: '429 minute' });
    expect(r.ok ? 0 : r.waitMs).toBeGreaterThan(4000);
    await expect(mods[1]!.acquireBudget(pools[1]!, spec(key), 100)).rejects.toMatchObject({
      name: 'ProviderRateLimitedError',
    });
  });
});

describe('rotated refresh tokens are stored by compare-and-set (never lost)', () => {
  // A one-second lease that runs out while the provider takes 2.5 s to answer.
  const shortLease = (db: Db) => ({ ...deps(db), tokenLeaseSeconds: 1 });

  afterEach(() => qbo.setTokenLatency(0));

  test('two refreshers and an expired lease: the first answer is stored, the second refresher uses it, the next refresh works', async () => {
    const integrationId = await integrationRow('quickbooks');
    const c = qboRefreshClient(integrationId, await quickBooksConsent(qbo, REALM));
    const [a, b] = processes<TokensModule>(2, '../../src/incoming/oauth-tokens');
    qbo.setTokenLatency(2500);
    const errorsBefore = qbo.stats().tokenErrors;
    const first = a!.getAccessToken(shortLease(pools[0]!), c);
    // B arrives after A's lease ran out, while A still waits for QuickBooks' answer.
    await sleep(1300);
    const second = b!.getAccessToken(shortLease(pools[1]!), c);
    const [ta, tb] = await Promise.all([first, second]);
    // QuickBooks refused B's use of the rotated-out token; B then took the token A stored.
    expect(qbo.stats().tokenErrors - errorsBefore).toBe(1);
    expect(tb.accessToken).toBe(ta.accessToken);
    const row = await database.db.query(
      'SELECT generation, refresh_lease_owner, last_error FROM provider_tokens WHERE integration_id = $1',
      [integrationId],
    );
    expect(row.rows[0]).toMatchObject({ generation: '1', refresh_lease_owner: null, last_error: null });

    // The stored refresh token is the rotated one: the next refresh succeeds.
    qbo.setTokenLatency(0);
    await database.db.query('UPDATE provider_tokens SET access_expires_at = now() WHERE integration_id = $1', [
      integrationId,
    ]);
    const next = await a!.getAccessToken(deps(pools[2]!), c);
    expect(next.accessToken).not.toBe(ta.accessToken);
  });

  test('a crash between the answer and the store leaves the previous refresh token, which Xero still accepts', async () => {
    const integrationId = await integrationRow('xero');
    const refreshToken = await xeroConsent(xero);
    const c = xeroClient(integrationId, refreshToken);
    const [a, b] = processes<TokensModule>(2, '../../src/incoming/oauth-tokens');
    // Process A's database connection dies while Xero is answering: it cannot store the rotation.
    const doomed = createPool(database.url, 1);
    xero.setTokenLatency(800);
    const crashed = a!.getAccessToken(shortLease(doomed), c);
    await sleep(200);
    await doomed.end();
    await expect(crashed).rejects.toThrow();
    xero.setTokenLatency(0);
    // After the lease ran out another process refreshes with the stored (pre-rotation) token.
    await sleep(1100);
    const token = await b!.getAccessToken(shortLease(pools[0]!), c);
    expect(token.accessToken).toBeTruthy();
    const row = await database.db.query(
      'SELECT generation, last_error FROM provider_tokens WHERE integration_id = $1',
      [integrationId],
    );
    expect(row.rows[0]).toMatchObject({ generation: '1', last_error: null });
  });
});
