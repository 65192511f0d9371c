import { randomUUID } from 'node:crypto';
import { documentedRoutes, type RouteDoc } from '../../src/api/openapi';
import '../../src/api/openapi-routes';
import { fetchJson, startStack, type Stack } from '../harness/stack';

/**
 * Scope enforcement for every admin route, driven from the route table the API and its OpenAPI
 * document are built from: a route added there is covered here, and a route served without an
 * entry fails test/unit/openapi.test.ts.
 */

let stack: Stack;
let ownId: string;
let otherId: string;
const keys: Record<'read-only' | 'integration', string> = { 'read-only': '', integration: '' };

beforeAll(async () => {
  stack = await startStack({ RATE_LIMIT_REQUESTS: '0' });
  const make = async (name: string) =>
    (await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name })).body.id as string;
  ownId = await make('own');
  otherId = await make('other');
  keys['read-only'] = (
    await stack.request('POST', '/api/v1/api-clients', { name: 'ro', kind: 'api_key', scope: 'read-only' })
  ).body.apiKey;
  keys.integration = (
    await stack.request('POST', '/api/v1/api-clients', {
      name: 'own',
      kind: 'api_key',
      scope: 'integration',
      integrationId: ownId,
    })
  ).body.apiKey;
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const call = (key: string, method: string, path: string) =>
  fetchJson(`${stack.apiUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
    },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
  });

const fill = (r: RouteDoc, id: string) =>
  r.path.replace(/:(\w+)/g, (_m, name: string) => (name === 'id' ? id : name === 'attempt' ? '1' : randomUUID()));

// What each scope may do, stated here rather than taken from the code under test.
const readOnlyMay = (r: RouteDoc) => r.method === 'get' && r.scope !== 'admin';
const integrationMay = (r: RouteDoc, id: string) => r.scope === 'integration' && id === ownId;

test('the route table declares a scope for every admin route', () => {
  expect(documentedRoutes().length).toBeGreaterThan(40);
  for (const r of documentedRoutes()) expect(['admin', 'read', 'integration']).toContain(r.scope);
});

test('read-only and integration credentials reach exactly the routes their scope allows', async () => {
  const wrong: string[] = [];
  for (const r of documentedRoutes()) {
    const method = r.method.toUpperCase();
    const id = r.path.startsWith('/integrations/:id') ? ownId : randomUUID();
    const ro = await call(keys['read-only'], method, fill(r, id));
    if ((ro.status === 403) === readOnlyMay(r)) wrong.push(`read-only ${method} ${r.path}: ${ro.status}`);
    if (ro.status === 403 && ro.body?.error?.code !== 'insufficient_scope') wrong.push(`envelope ${method} ${r.path}`);
    for (const target of r.path.startsWith('/integrations/:id') ? [ownId, otherId] : [id]) {
      const res = await call(keys.integration, method, fill(r, target));
      if ((res.status === 403) === integrationMay(r, target))
        wrong.push(`integration ${method} ${r.path} (${target === ownId ? 'own' : 'other'}): ${res.status}`);
    }
  }
  expect(wrong).toEqual([]);
});

test('an admin credential passes every scope check; existing credentials are admin', async () => {
  const { rows } = await stack.db.query("SELECT scope FROM api_clients WHERE name = 'test suite'");
  expect(rows).toEqual([{ scope: 'admin' }]);
  for (const r of documentedRoutes().filter((d) => d.method === 'get')) {
    const res = await call(stack.apiKey, 'GET', fill(r, ownId));
    expect([r.path, res.status === 403]).toEqual([r.path, false]);
  }
});

test('an undeclared path is admin-only: other scopes get 403, admin gets 404', async () => {
  expect((await call(keys['read-only'], 'GET', '/no-such-route')).status).toBe(403);
  expect((await call(keys.integration, 'GET', `/integrations/${ownId}/no-such`)).status).toBe(403);
  expect((await call(stack.apiKey, 'GET', '/no-such-route')).status).toBe(404);
});
