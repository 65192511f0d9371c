import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { createApiKey } from '../../src/platform/security/api-credentials';
import { migrate } from '../../src/platform/db/migrate';
import { createPool, type Db } from '../../src/platform/db/pool';
import { harnessFile, type HarnessInfo } from './paths';
import { ProductProcess } from './processes';

export function harness(): HarnessInfo {
  return JSON.parse(fs.readFileSync(harnessFile(), 'utf8')) as HarnessInfo;
}

const suffix = () => randomBytes(5).toString('hex');

export interface TestDatabase {
  url: string;
  db: Db;
  drop: () => Promise<void>;
}

/** An empty database of its own (not migrated), dropped by `drop`. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const admin = harness().adminDatabaseUrl;
  const name = `sy_test_${suffix()}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = createPool(url.toString(), 5);
  return {
    url: url.toString(),
    db,
    drop: async () => {
      await db.end();
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh database for one suite, migrated by the product's own migrations. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase();
  await migrate(database.db);
  return database;
}

export interface Stack {
  apiUrl: string;
  apiKey: string;
  db: Db;
  temporal: Client;
  taskQueue: string;
  env: NodeJS.ProcessEnv;
  api: ProductProcess;
  worker: ProductProcess;
  /** Authorised JSON request to the admin API. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
  text: string;
}

export async function fetchJson(url: string, init: RequestInit = {}): Promise<ApiResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/**
 * Asks the token endpoint at `apiUrl` for a client-credentials token, the credentials in the form
 * body (as MSPbots sends them). `headers` adds to the request's (a client address, say).
 */
export function requestClientToken(
  apiUrl: string,
  client: { clientId: string; clientSecret: string },
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return fetchJson(`${apiUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }).toString(),
  });
}

/**
 * Starts the product as separate api and worker processes (the scale-out shape) against
 * the shared Temporal server, with its own database and task queue. `extraEnv` may point it
 * at another Temporal server (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE), e.g. the cluster suite's.
 * `database` runs it on a database the suite prepared (the stack drops it when it stops).
 */
export async function startStack(extraEnv: Record<string, string> = {}, database?: TestDatabase): Promise<Stack> {
  const h = harness();
  database ??= await createTestDatabase();
  const taskQueue = `test-${suffix()}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'],
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '5',
    TEMPORAL_ADDRESS: h.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_UI_URL: h.temporalUiUrl,
    WORKFLOW_BUNDLE_PATH: h.workflowBundlePath,
    SWITCHYARD_MASTER_KEY: randomBytes(32).toString('base64'),
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1,localhost',
    // The provider emulators run on loopback: they stand in for Xero, Intuit and Microsoft.
    PROVIDER_CUSTOM_HOSTS: '127.0.0.1,localhost',
    INBOUND_ACTIVITY_TIMEOUT_SECONDS: '5',
    INBOUND_RETRY_INITIAL_SECONDS: '1',
    SHUTDOWN_GRACE_SECONDS: '5',
    ...extraEnv,
  };
  const worker = new ProductProcess('src/worker.ts', env);
  const api = new ProductProcess('src/server.ts', env);
  const [, apiMatch] = await Promise.all([
    worker.start(/worker running/),
    api.start(/"port":(\d+),"msg":"api listening"/),
  ]);
  const apiUrl = `http://127.0.0.1:${apiMatch[1]}`;
  const { apiKey } = await createApiKey(database.db, 'test suite');
  const connection = await Connection.connect({ address: env['TEMPORAL_ADDRESS']! });
  const temporal = new Client({ connection, namespace: env['TEMPORAL_NAMESPACE'] ?? 'default' });
  return {
    apiUrl,
    apiKey,
    db: database.db,
    temporal,
    taskQueue,
    env,
    api,
    worker,
    request: (method, path, body, headers = {}) =>
      fetchJson(`${apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await connection.close();
      await database.drop();
    },
  };
}

/** Polls until `fn` returns a truthy value (or throws the last assertion error after the timeout). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      lastError = new Error('condition still false');
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw lastError;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
