import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { embeddedLauncherEnv } from '../harness/launcher-env';
import { ProductProcess } from '../harness/processes';
import { fetchJson } from '../harness/stack';

/**
 * The embedded default as a newcomer runs it: its own Temporal dev server and PostgreSQL
 * under one data directory, stopped with Ctrl-C and started again.
 */
let dataDir: string;
let env: NodeJS.ProcessEnv;
let ports: { temporal: number; ui: number; pg: number; http: number };

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-embedded-'));
  ({ env, ports } = await embeddedLauncherEnv(dataDir));
});

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const READY = /Switchyard is running\./;

test('one command starts everything; Ctrl-C stops it cleanly; a second start finds the earlier data', async () => {
  const first = new ProductProcess('src/launcher.ts', env);
  await first.start(READY, 120_000);
  expect(first.output).toContain(`http://localhost:${ports.http}`);
  expect(first.output).toContain(`Temporal UI:   http://localhost:${ports.ui}`);
  expect(first.output).toMatch(/created the first admin API key/);

  const keyFile = path.join(dataDir, 'admin-api-key');
  expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
  expect(fs.existsSync(path.join(dataDir, 'temporal', 'temporal.db'))).toBe(true);
  const apiKey = fs.readFileSync(keyFile, 'utf8').trim();
  const api = `http://127.0.0.1:${ports.http}`;
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

  expect((await fetchJson(`${api}/readyz`)).status).toBe(200);
  const created = await fetchJson(`${api}/api/v1/integrations`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ provider: 'generic', name: 'survives restarts' }),
  });
  expect(created.status).toBe(201);

  // Namespace retention raised from the dev server's 24 h; our search attributes registered.
  const connection = await Connection.connect({ address: env['TEMPORAL_ADDRESS']! });
  const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
  expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 86_400);
  const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
  expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
    expect.arrayContaining([
      'SwitchyardIntegration',
      'SwitchyardWebhookId',
      'SwitchyardMailboxId',
      'SwitchyardEntityId',
    ]),
  );
  await connection.close();

  expect(await first.stop('SIGINT')).toBe(0);
  await expect(fetchJson(`${api}/healthz`)).rejects.toThrow();

  const second = new ProductProcess('src/launcher.ts', env);
  await second.start(READY, 120_000);
  expect(second.output).not.toMatch(/created the first admin API key/);
  const listed = await fetchJson(`${api}/api/v1/integrations`, { headers: auth });
  expect(listed.status).toBe(200);
  expect(listed.body.data.map((i: { name: string }) => i.name)).toEqual(['survives restarts']);
  expect(await second.stop('SIGINT')).toBe(0);
});
