import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { createApiKey } from '../../src/platform/security/api-credentials';
import { migrate } from '../../src/platform/db/migrate';
import { createPool, type Db } from '../../src/platform/db/pool';
import { findTemporalCli } from '../../src/embedded/temporal-cli';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/platform/temporal/search-attributes';
import { freePort } from '../harness/free-port';
import { ProductProcess } from '../harness/processes';
import { eventually, fetchJson, harness, startStack, type Stack } from '../harness/stack';
import { postSignedGeneric } from './incoming-helpers';

async function createIntegration(apiUrl: string, apiKey: string) {
  const res = await fetchJson(`${apiUrl}/api/v1/integrations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'generic', name: 'Outage', processingMethod: 'service_immediate' }),
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; signingSecret: string };
}

function send(apiUrl: string, integration: { id: string; signingSecret: string }, n: number) {
  const body = JSON.stringify({ type: 'Invoice updated', id: `INV-${n}`, nonce: randomUUID() });
  return postSignedGeneric(apiUrl, integration, body, { signal: AbortSignal.timeout(10_000) });
}

describe('Temporal stopped while webhooks keep arriving', () => {
  let dir: string;
  let port: number;
  let temporal: ChildProcess | undefined;
  let stack: Stack;

  /** A dev server of this suite's own, persisted to a file so a restart finds its workflows. */
  async function startTemporal() {
    const args = [
      'server',
      'start-dev',
      '--headless',
      '--port',
      String(port),
      '--db-filename',
      path.join(dir, 'temporal.db'),
    ];
    for (const sa of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${sa.name}=Keyword`);
    temporal = spawn(findTemporalCli(process.env['TEMPORAL_CLI_PATH'])!, [...args, '--log-level', 'error'], {
      stdio: 'ignore',
    });
    await eventually(
      async () => {
        const conn = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: '1s' });
        try {
          await conn.workflowService.getSystemInfo({});
          return true;
        } finally {
          await conn.close();
        }
      },
      60_000,
      500,
    );
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-outage-'));
    port = await freePort();
    await startTemporal();
    stack = await startStack({
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      RATE_LIMIT_REQUESTS: '0',
      INTAKE_POLL_INTERVAL_MS: '500',
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    temporal?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every request is answered 2xx while it is down, and processed once after it returns', async () => {
    const integration = await createIntegration(stack.apiUrl, stack.apiKey);
    const before = await Promise.all(Array.from({ length: 5 }, (_, i) => send(stack.apiUrl, integration, i)));
    expect(before.map((r) => r.status)).toEqual(Array(5).fill(202));

    temporal!.kill('SIGKILL');
    const during = [];
    for (let i = 5; i < 35; i++) during.push(await send(stack.apiUrl, integration, i));
    expect(during.map((r) => r.status)).toEqual(Array(30).fill(202));
    const ready = await fetchJson(`${stack.apiUrl}/readyz`);
    expect(ready.body.checks.temporal.ok).toBe(false);

    await startTemporal();
    await eventually(
      async () =>
        Number(
          (
            await stack.db.query(
              `SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1 AND status = 'succeeded'`,
              [integration.id],
            )
          ).rows[0].n,
        ) === 35,
      120_000,
      1000,
    );
    // The outbox drains, though not at the instant the last webhook succeeds: a claimed batch's
    // rows are deleted once every start in it has returned, and a start that failed while Temporal
    // came back is handed over again after its backoff (at most 30 s).
    await eventually(
      async () => Number((await stack.db.query('SELECT count(*) AS n FROM intake_jobs')).rows[0].n) === 0,
      60_000,
      1000,
    );
    // Handed over twice, still processed once.
    const attempts = await stack.db.query(
      `SELECT count(*)::int AS n FROM incoming_webhook_attempts a JOIN incoming_webhooks w ON w.id = a.webhook_id
       WHERE w.integration_id = $1`,
      [integration.id],
    );
    expect(attempts.rows[0].n).toBe(35);
  }, 300_000);
});

describe('PostgreSQL stopped', () => {
  let pgDir: string;
  let pgPort: number;
  let postgres: ProductProcess;
  let api: ProductProcess;
  let apiUrl: string;
  let db: Db;

  const startDb = async () => {
    postgres = new ProductProcess('test/harness/postgres-process.ts', process.env, [pgDir, String(pgPort)]);
    return (await postgres.start(/postgres ready (\S+)/))[1]!;
  };

  beforeAll(async () => {
    pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-pgdown-'));
    pgPort = await freePort();
    const url = await startDb();
    db = createPool(url, 2);
    await migrate(db);
    api = new ProductProcess('src/server.ts', {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      DATABASE_URL: url,
      TEMPORAL_ADDRESS: harness().temporalAddress,
      TEMPORAL_TASK_QUEUE: `outage-${randomBytes(4).toString('hex')}`,
      SWITCHYARD_MASTER_KEY: randomBytes(32).toString('base64'),
      HTTP_PORT: '0',
      RATE_LIMIT_REQUESTS: '0',
      INTAKE_RETRY_AFTER_SECONDS: '3',
    });
    apiUrl = `http://127.0.0.1:${(await api.start(/"port":(\d+),"msg":"api listening"/))[1]}`;
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    await db?.end().catch(() => undefined);
    await postgres?.stop();
    fs.rmSync(pgDir, { recursive: true, force: true });
  });

  test('ingress answers 503 with Retry-After and writes nothing; once it is back, ingress accepts', async () => {
    const { apiKey } = await createApiKey(db, 'outage test');
    const integration = await createIntegration(apiUrl, apiKey);
    expect((await send(apiUrl, integration, 0)).status).toBe(202);

    expect(await postgres.stop('SIGTERM')).toBe(0);
    const refused = await send(apiUrl, integration, 1);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(refused.body.error.code).toBe('storage_unavailable');

    await startDb();
    const accepted = await eventually(
      async () => {
        const r = await send(apiUrl, integration, 2);
        return r.status === 202 ? r : undefined;
      },
      60_000,
      500,
    );
    expect(accepted.body.status).toBe('accepted');
    // Nothing half-written: the refused request left no webhook behind.
    const { rows } = await db.query<{ id: string }>(
      `SELECT payload::json->>'id' AS id FROM incoming_webhooks WHERE integration_id = $1 ORDER BY received_at`,
      [integration.id],
    );
    expect(rows.map((r) => r.id)).toEqual(['INV-0', 'INV-2']);
  }, 180_000);
});
