import { fetchJson, requestClientToken, startStack, type Stack } from '../harness/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ RATE_LIMIT_REQUESTS: '25', RATE_LIMIT_WINDOW_SECONDS: '300', BODY_LIMIT_BYTES: '2048' });
});
afterAll(async () => {
  await stack?.stop();
});

const get = (path: string, token?: string) =>
  fetchJson(`${stack.apiUrl}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

test('every /api route refuses a missing or wrong credential with 401 and the error envelope', async () => {
  for (const path of [
    '/api/v1/integrations',
    '/api/v1/incoming-webhooks',
    '/api/v1/inbound-requests',
    '/api/v1/api-clients',
  ]) {
    for (const token of [undefined, 'nonsense', 'sy_key_wrong', 'sy_at_wrong']) {
      const res = await get(path, token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  }
});

test('an API application obtains a short-lived bearer token by client credentials', async () => {
  const app = await stack.request('POST', '/api/v1/api-clients', { name: 'MSPbots', kind: 'application' });
  expect(app.status).toBe(201);
  expect(app.body.clientId).toMatch(/^app_/);
  expect(app.body.clientSecret).toEqual(expect.any(String));
  expect(app.body.tokenUrl).toMatch(/\/oauth2\/token$/);

  // The secret is shown once and never again.
  const listed = await stack.request('GET', '/api/v1/api-clients');
  expect(JSON.stringify(listed.body)).not.toContain(app.body.clientSecret);

  const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'all', tenant: 'switchyard' });
  const token = await fetchJson(`${stack.apiUrl}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: basic(app.body.clientId, app.body.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  });
  expect(token.status).toBe(200);
  expect(token.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  expect((await get('/api/v1/integrations', token.body.access_token)).status).toBe(200);

  // Credentials in the body work too (MSPbots-style form post).
  const viaBody = await requestClientToken(stack.apiUrl, app.body);
  expect(viaBody.status).toBe(200);

  // Expired: the token row's expiry passes (simulated by moving it into the past).
  const { createHash } = await import('node:crypto');
  await stack.db.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [
    createHash('sha256').update(token.body.access_token).digest('hex'),
  ]);
  const expired = await get('/api/v1/integrations', token.body.access_token);
  expect(expired.status).toBe(401);
  expect((await get('/api/v1/integrations', viaBody.body.access_token)).status).toBe(200);
});

test('the token endpoint refuses wrong secrets and unsupported grants in OAuth2 shapes', async () => {
  const app = await stack.request('POST', '/api/v1/api-clients', { name: 'bot', kind: 'application' });
  const wrong = await fetchJson(`${stack.apiUrl}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: basic(app.body.clientId, 'not-the-secret'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  expect(wrong.status).toBe(401);
  expect(wrong.body.error).toBe('invalid_client');
  const grant = await fetchJson(`${stack.apiUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=password&username=a&password=b',
  });
  expect(grant.status).toBe(400);
  expect(grant.body.error).toBe('unsupported_grant_type');
});

test('a deleted API key stops working at once', async () => {
  const key = await stack.request('POST', '/api/v1/api-clients', { name: 'script', kind: 'api_key' });
  expect((await get('/api/v1/integrations', key.body.apiKey)).status).toBe(200);
  expect((await stack.request('DELETE', `/api/v1/api-clients/${key.body.id}`)).status).toBe(204);
  expect((await get('/api/v1/integrations', key.body.apiKey)).status).toBe(401);
});

test('each client is rate limited on its own, with 429 and Retry-After', async () => {
  const key = await stack.request('POST', '/api/v1/api-clients', { name: 'busy script', kind: 'api_key' });
  const statuses: number[] = [];
  let limited: Awaited<ReturnType<typeof get>> | undefined;
  for (let i = 0; i < 26; i++) {
    const res = await get('/api/v1/integrations', key.body.apiKey);
    statuses.push(res.status);
    if (res.status === 429) limited = res;
  }
  expect(statuses.filter((s) => s === 200)).toHaveLength(25);
  expect(statuses[25]).toBe(429);
  expect(limited!.body.error.code).toBe('rate_limited');
  const retryAfter = Number(limited!.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(300);
  // Another client is unaffected.
  expect((await stack.request('GET', '/api/v1/integrations')).status).toBe(200);
});

test('malformed JSON, oversized bodies and invalid fields get clear 4xx errors and change nothing', async () => {
  const malformed = await stack.request('POST', '/api/v1/integrations', '{"provider":');
  expect(malformed.status).toBe(400);
  expect(malformed.body.error.code).toBe('malformed_json');

  const big = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'x'.repeat(4000) });
  expect(big.status).toBe(413);
  expect(big.body.error.code).toBe('payload_too_large');

  const invalid = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: '',
    processingMethod: 'sometimes',
    surprise: true,
  });
  expect(invalid.status).toBe(400);
  expect(invalid.body.error.code).toBe('validation_failed');
  const paths = invalid.body.error.details.map((d: { path: string }) => d.path);
  expect(paths).toEqual(expect.arrayContaining(['name', 'processingMethod']));
  expect(invalid.body.error.message).toMatch(/surprise/);

  const list = await stack.request('GET', '/api/v1/integrations');
  expect(list.body.data).toEqual([]);

  const unknownRoute = await stack.request('GET', '/api/v1/nothing-here');
  expect(unknownRoute.status).toBe(404);
  expect(unknownRoute.body.error.code).toBe('not_found');
});

test('secrets never appear in API responses after creation', async () => {
  const chosen = `whsec_${Buffer.from('a-secret-chosen-by-the-user-1234').toString('base64')}`;
  const created = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'chosen secret',
    signingSecret: chosen,
  });
  expect(created.status).toBe(201);
  expect(created.text).not.toContain(chosen);
  const fetched = await stack.request('GET', `/api/v1/integrations/${created.body.id}`);
  expect(fetched.text).not.toContain(chosen);
  const row = await stack.db.query('SELECT secrets_enc FROM integrations WHERE id = $1', [created.body.id]);
  expect(row.rows[0].secrets_enc).toMatch(/^v2:/);
  expect(row.rows[0].secrets_enc).not.toContain(chosen.slice(6, 30));
});
