import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../harness/free-port';
import { ProductProcess } from '../harness/processes';
import { Receiver } from '../harness/receiver';
import { fetchJson, harness } from '../harness/stack';
import { ticketEvent } from './outgoing-helpers';

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
    // The subscriber the second test keeps waiting is on this machine.
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    SHUTDOWN_GRACE_SECONDS: '20',
    // The workflow bundle the run already built, rather than bundling again per start.
    WORKFLOW_BUNDLE_PATH: harness().workflowBundlePath,
  };
});
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const READY = /Switchyard is running\./;
// Each test starts complete embedded stacks on a shared, busy machine.
jest.setTimeout(300_000);
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

test('Ctrl-C at a terminal running the real npm start: the whole process group gets SIGINT, it drains, npm exits 0', async () => {
  // npm runs the script through /bin/sh; a shell left waiting between npm and the launcher takes
  // the terminal's SIGINT itself and makes npm exit 130 however cleanly the launcher stopped.
  // The start script execs node (not the tsx CLI, which SIGKILLs a child slow to acknowledge a
  // forwarded SIGINT), so the exit code a person sees is the launcher's.
  const npm = new ProductProcess('start', env, [], 'npm');
  try {
    await npm.start(READY, 120_000);
    const exited = exitOf(npm);
    npm.signalGroup('SIGINT');
    expect(await exited).toBe(0);
    expect(npm.output).toMatch(/"msg":"stopped"/);
    expect(npm.output).not.toMatch(/second signal/);
  } finally {
    npm.signalGroup('SIGKILL');
  }
});

test('a second Ctrl-C a moment later, while draining, forces the exit', async () => {
  const launcher = new ProductProcess('src/launcher.ts', env);
  await launcher.start(READY, 120_000);
  // A delivery to a subscriber that never answers keeps the worker draining for the whole
  // grace period, so the second Ctrl-C lands while the stop is still under way.
  const receiver = await Receiver.start();
  try {
    receiver.setDefault('/slow', { hang: true });
    const api = `http://127.0.0.1:${env['HTTP_PORT']}`;
    const key = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const hook = await fetchJson(`${api}/api/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'slow', url: receiver.url('/slow'), events: [{ type: 'Ticket Changed' }] }),
    });
    expect(hook.status).toBe(201);
    const event = await fetchJson(`${api}/api/v1/events`, {
      method: 'POST',
      headers,
      body: JSON.stringify(ticketEvent()),
    });
    expect(event.status).toBe(202);
    await receiver.waitFor('/slow', 1, 60_000);

    const exited = exitOf(launcher);
    launcher.child!.kill('SIGINT');
    await sleep(1200);
    launcher.child!.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(launcher.output).toMatch(/second signal: exiting now/);
  } finally {
    await receiver.close();
  }
  // What the forced exit left running is stopped by the next start (orphan sweep).
  // Its worker takes up the delivery left in flight; a short grace keeps its own stop brief.
  const next = new ProductProcess('src/launcher.ts', { ...env, SHUTDOWN_GRACE_SECONDS: '3' });
  await next.start(READY, 120_000);
  expect(await next.stop('SIGINT', 90_000)).toBe(0);
});
