import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../harness/free-port';
import { ProductProcess } from '../harness/processes';

/**
 * Ctrl-C under `npm start`: the terminal signals the whole process group and npm forwards its
 * own SIGINT, so the launcher gets two within milliseconds. That is one Ctrl-C: it drains and
 * exits 0. A second Ctrl-C pressed later, while it drains, still forces the exit.
 */
let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-signals-'));
  env = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    SWITCHYARD_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
  };
});
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const READY = /Switchyard is running\./;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exitOf(p: ProductProcess): Promise<number | null> {
  const child = p.child!;
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('two SIGINTs 5 ms apart (one Ctrl-C under npm start) drain and exit 0', async () => {
  const launcher = new ProductProcess('src/launcher.ts', env);
  await launcher.start(READY, 120_000);
  const exited = exitOf(launcher);
  launcher.child!.kill('SIGINT');
  await sleep(5);
  launcher.child!.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(launcher.output).toMatch(/"msg":"stopped"/);
  expect(launcher.output).not.toMatch(/second signal/);
});

test('a second Ctrl-C a moment later, while draining, forces the exit', async () => {
  const launcher = new ProductProcess('src/launcher.ts', env);
  await launcher.start(READY, 120_000);
  const exited = exitOf(launcher);
  launcher.child!.kill('SIGINT');
  await sleep(1200);
  launcher.child!.kill('SIGINT');
  expect(await exited).toBe(1);
  expect(launcher.output).toMatch(/second signal: exiting now/);
  // What the forced exit left running is stopped by the next start (orphan sweep).
  const next = new ProductProcess('src/launcher.ts', env);
  await next.start(READY, 120_000);
  expect(await next.stop('SIGINT')).toBe(0);
});
