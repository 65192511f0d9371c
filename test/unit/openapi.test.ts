import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import {
  buildOpenApiDocument,
  documentedPublicRoutes,
  documentedRoutes,
  listExpressRoutes,
} from '../../src/api/openapi';
import { loadConfig } from '../../src/platform/config';
import { createPool } from '../../src/platform/db/pool';
import { createLogger } from '../../src/platform/logger';
import { SecretBox } from '../../src/platform/security/secret-box';

// Building the app connects to nothing: the pool and the Temporal connection are lazy.
const db = createPool('postgres://nobody@127.0.0.1:1/none', 1);
const app = createApp({
  config: loadConfig({}),
  db,
  temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
  logger: createLogger({ level: 'silent' }),
  secrets: new SecretBox(Buffer.alloc(32)),
});
afterAll(() => db.end());

test('every admin route the app serves is in the OpenAPI document, and nothing else is', () => {
  const served = listExpressRoutes(app)
    .filter((r) => r.includes(' /api/v1/') && !r.endsWith('/openapi.json'))
    .map((r) => r.replace(' /api/v1', ' '))
    .sort();
  const documented = documentedRoutes()
    .map((r) => `${r.method.toUpperCase()} ${r.path}`)
    .sort();
  expect(served.length).toBeGreaterThan(40);
  expect(documented).toEqual(served);
});

test('the document is valid OpenAPI 3 and carries the request schemas', () => {
  const doc = buildOpenApiDocument('http://localhost:3000');
  // The validator is ESM-only, which Jest's CommonJS runtime cannot load: validate in a child Node.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sy-oa-')), 'openapi.json');
  fs.writeFileSync(file, JSON.stringify(doc));
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
    const r = await new Validator().validate(${JSON.stringify(file)});
    process.stdout.write(JSON.stringify({ valid: r.valid, errors: r.errors ?? null }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.resolve(__dirname, '..', '..'),
  });
  expect(JSON.parse(out.toString())).toEqual({ valid: true, errors: null });
  const createWebhook = doc.paths['/webhooks']?.['post'] as {
    requestBody: { content: Record<string, { schema: { properties: object } }> };
  };
  expect(Object.keys(createWebhook.requestBody.content['application/json']!.schema.properties)).toEqual(
    expect.arrayContaining(['name', 'url', 'events', 'batching', 'payload']),
  );
  const log = doc.paths['/incoming-webhooks']?.['get'] as { parameters: Array<{ name: string; in: string }> };
  expect(log.parameters.map((p) => p.name)).toEqual(
    expect.arrayContaining(['status', 'integrationId', 'cursor', 'limit']),
  );
  expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
});

test('the routes outside /api/v1 (ingress, token endpoint, sign-in callbacks, health) are documented at the server root', () => {
  const served = listExpressRoutes(app)
    // The console's static files (its vendored chart library included) are not API routes.
    .filter((r) => !r.includes(' /api/v1/') && !r.includes(' /console/') && r !== 'GET ')
    .sort();
  const documented = documentedPublicRoutes()
    .map((r) => `${r.method.toUpperCase()} ${r.path}`)
    .sort();
  expect(documented).toEqual(served);
  expect(served).toEqual(
    expect.arrayContaining([
      'POST /oauth2/token',
      'GET /azure/auth',
      'POST /hooks/xero/:integrationId',
      'GET /oauth/:provider/callback',
    ]),
  );
  const doc = buildOpenApiDocument('http://localhost:3000');
  const callback = doc.paths['/oauth/{provider}/callback'] as {
    servers: Array<{ url: string }>;
    get: { security: unknown[] };
  };
  expect(callback.servers).toEqual([{ url: 'http://localhost:3000' }]);
  expect(callback.get.security).toEqual([]);
  expect((doc.paths['/oauth2/token'] as { post: { security: unknown[] } }).post.security).toEqual([{ basic: [] }]);
  expect(doc.paths['/integrations/{id}/connect']).toBeDefined();
  expect(doc.paths['/integrations/{id}/catch-up']).toBeDefined();
});

test('every admin route declares a scope; only GET routes may be read-only; the document shows it per operation', () => {
  const doc = buildOpenApiDocument('http://localhost:3000');
  for (const r of documentedRoutes()) {
    expect([r.method, r.path, ['admin', 'read', 'integration'].includes(r.scope)]).toEqual([r.method, r.path, true]);
    if (r.scope === 'read') expect([r.method, r.path]).toEqual(['get', r.path]);
    if (r.scope === 'integration') expect(r.path.startsWith('/integrations/:id')).toBe(true);
    const op = (doc.paths[r.path.replace(/:(\w+)/g, '{$1}')] as Record<string, Record<string, unknown>>)[r.method]!;
    expect(op['x-switchyard-scope']).toBe(r.scope);
    expect(op['security']).toEqual(expect.arrayContaining([{ bearer: [] }, { clientCredentials: ['admin'] }]));
  }
  // Minting and listing credentials is admin-only.
  for (const r of documentedRoutes().filter((d) => d.path.startsWith('/api-clients'))) expect(r.scope).toBe('admin');
});
