import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { migrate } from '../../src/platform/db/migrate';
import { createPool } from '../../src/platform/db/pool';
import { freePort } from '../harness/free-port';
import { ProductProcess } from '../harness/processes';
import { eventually, fetchJson, harness } from '../harness/stack';

let pgDir: string;
let pgPort: number;
let postgres: ProductProcess;
let databaseUrl: string;
let api: ProductProcess;
let apiUrl: string;

const startDb = async () => {
  postgres = new ProductProcess('test/harness/postgres-process.ts', process.env, [pgDir, String(pgPort)]);
  const m = await postgres.start(/postgres ready (\S+)/);
  databaseUrl = m[1]!;
};

beforeAll(async () => {
  pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-ready-'));
  pgPort = await freePort();
  await startDb();
  const pool = createPool(databaseUrl, 1);
  await migrate(pool);
  await pool.end();
  api = new ProductProcess('src/server.ts', {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: harness().temporalAddress,
    SWITCHYARD_MASTER_KEY: randomBytes(32).toString('base64'),
    HTTP_PORT: '0',
  });
  const m = await api.start(/"port":(\d+),"msg":"api listening"/);
  apiUrl = `http://127.0.0.1:${m[1]}`;
});

afterAll(async () => {
  await api?.stop();
  await postgres?.stop();
  fs.rmSync(pgDir, { recursive: true, force: true });
});

test('/readyz follows PostgreSQL: ready, unready while it is stopped, ready again after', async () => {
  const ready = await fetchJson(`${apiUrl}/readyz`);
  expect(ready.status).toBe(200);
  // Anonymous: the status and which part is up, nothing more (no backlog, no error texts).
  expect(ready.body).toEqual({ status: 'ready', checks: { postgres: { ok: true }, temporal: { ok: true } } });

  expect(await postgres.stop('SIGTERM')).toBe(0);
  const down = await eventually(async () => {
    const res = await fetchJson(`${apiUrl}/readyz`);
    return res.status === 503 ? res : undefined;
  });
  expect(down.body).toEqual({
    status: 'unready',
    down: ['postgres'],
    checks: { postgres: { ok: false }, temporal: { ok: true } },
  });
  // Liveness is about the process, not its dependencies.
  expect((await fetchJson(`${apiUrl}/healthz`)).status).toBe(200);

  await startDb();
  await eventually(async () => (await fetchJson(`${apiUrl}/readyz`)).status === 200);
});
