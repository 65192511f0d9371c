import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { embeddedLauncherEnv } from '../harness/launcher-env';
import { ProductProcess } from '../harness/processes';
import { eventually, fetchJson, harness } from '../harness/stack';
import { postSignedGeneric } from './incoming-helpers';

/**
 * The embedded stack under `npm start` survives its own parts dying: the launcher restarts a
 * killed dev server, cleans up after a killed launcher, and exits 0 on Ctrl-C in every state.
 */
const READY = /Switchyard is running\./;
// Each test starts one or two complete embedded stacks on a shared, busy machine.
jest.setTimeout(420_000);
const dirs: string[] = [];

async function launcherEnv(dataDir: string) {
  const { env, api } = await embeddedLauncherEnv(dataDir);
  const withBundle: NodeJS.ProcessEnv = {
    ...env,
    SHUTDOWN_GRACE_SECONDS: '3',
    // The workflow bundle the run already built: each launcher's worker would otherwise bundle
    // the workflow code again at every (re)start. embedded-start.test.ts covers the launcher's
    // own bundling.
    WORKFLOW_BUNDLE_PATH: harness().workflowBundlePath,
  };
  return { env: withBundle, api };
}

function freshDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

const pidOf = (dataDir: string, name: string) =>
  (JSON.parse(fs.readFileSync(path.join(dataDir, 'run', `${name}.pid`), 'utf8')) as { pid: number }).pid;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
};

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
});

async function signedSender(api: string, dataDir: string) {
  const key = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  const created = await fetchJson(`${api}/api/v1/integrations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'generic', name: 'load' }),
  });
  expect(created.status).toBe(201);
  let n = 0;
  return async () => {
    const body = JSON.stringify({ type: 'Invoice updated', id: `INV-${n++}` });
    try {
      const res = await fetch(`${api}/hooks/generic/${created.body.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signStandardWebhook(body, created.body.signingSecret),
        },
        body,
        signal: AbortSignal.timeout(5000),
      });
      return res.status;
    } catch {
      return 0;
    }
  };
}

test('a SIGKILLed dev server is restarted under load; ingress answers again; Ctrl-C right after the engine dies exits 0', async () => {
  const dataDir = freshDir('sy-supervise-');
  const { env, api } = await launcherEnv(dataDir);
  const launcher = new ProductProcess('src/launcher.ts', env);
  await launcher.start(READY, 300_000);
  const send = await signedSender(api, dataDir);
  expect(await send()).toBe(202);

  // Load: a steady trickle of signed webhooks while the engine is killed.
  let loading = true;
  const statuses: number[] = [];
  const load = (async () => {
    while (loading) statuses.push(await send());
  })();
  const before = pidOf(dataDir, 'temporal');
  process.kill(before, 'SIGKILL');
  await launcher.waitFor(/Temporal dev server exited unexpectedly/, 30_000);
  await launcher.waitFor(/the Temporal dev server restarted/, 60_000);
  expect(pidOf(dataDir, 'temporal')).not.toBe(before);
  await eventually(async () => (await send()) === 202, 60_000);
  loading = false;
  await load;
  expect(statuses.length).toBeGreaterThan(0);
  const health = await eventually(async () => {
    const res = await fetchJson(`${api}/healthz`);
    return res.status === 200 ? res : undefined;
  });
  expect(health.body).toMatchObject({ status: 'ok', parts: { temporal: 'up', postgres: 'up' } });

  // The engine dies again and Ctrl-C arrives while it is down: a clean exit, no gRPC crash.
  process.kill(pidOf(dataDir, 'temporal'), 'SIGKILL');
  await launcher.waitFor(/Temporal dev server exited unexpectedly/, 30_000);
  const degraded = await fetchJson(`${api}/healthz`);
  if (degraded.status === 503) expect(degraded.body).toMatchObject({ status: 'degraded', down: ['temporal'] });
  const pg = pidOf(dataDir, 'postgres');
  expect(await launcher.stop('SIGINT', 60_000)).toBe(0);
  expect(launcher.output).not.toMatch(/Channel has been shut down/);
  expect(alive(pg)).toBe(false);
});

/** The nice value of a process (field 19 of /proc/<pid>/stat, counted after the command name). */
const niceOf = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};

/**
 * The nice value of a process's autogroup (its session), or undefined without autogroup
 * scheduling: a kernel without it has no file, and one booted with it disabled shows it empty.
 */
const sessionNiceOf = (pid: number) => {
  if (!fs.existsSync(`/proc/${pid}/autogroup`)) return undefined;
  const nice = /nice (-?\d+)/.exec(fs.readFileSync(`/proc/${pid}/autogroup`, 'utf8'));
  return nice ? Number(nice[1]) : undefined;
};

/** Switchyard's connections to the embedded PostgreSQL: each backend's pid and whose it is. */
async function databaseBackends(dataDir: string, env: NodeJS.ProcessEnv) {
  const password = fs.readFileSync(path.join(dataDir, 'postgres.credentials'), 'utf8').trim();
  const client = new pg.Client({
    host: '127.0.0.1',
    port: Number(env['EMBEDDED_POSTGRES_PORT']),
    user: 'switchyard',
    password,
    database: 'switchyard',
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number; app: string }>(
      "SELECT pid, application_name AS app FROM pg_stat_activity WHERE application_name LIKE 'switchyard-%'",
    );
    return rows;
  } finally {
    await client.end();
  }
}

test('the worker runs in its own background-priority process; SIGKILLed, it is restarted and processes what arrived meanwhile', async () => {
  const dataDir = freshDir('sy-worker-');
  const { env, api } = await launcherEnv(dataDir);
  const launcher = new ProductProcess('src/launcher.ts', env);
  await launcher.start(READY, 300_000);
  const key = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  const auth = { authorization: `Bearer ${key}` };
  // Ingress answers first when the CPU is short: the worker and the dev server run under nice.
  expect(niceOf(pidOf(dataDir, 'worker'))).toBe(19);
  expect(niceOf(pidOf(dataDir, 'temporal'))).toBe(19);
  expect(niceOf(launcher.child!.pid!)).toBe(0);
  // Each runs in its own session; with autogroup scheduling the session's nice is what yields.
  if (sessionNiceOf(launcher.child!.pid!) !== undefined) {
    expect(sessionNiceOf(pidOf(dataDir, 'worker'))).toBe(19);
    expect(sessionNiceOf(pidOf(dataDir, 'temporal'))).toBe(19);
    expect(sessionNiceOf(launcher.child!.pid!)).toBe(0);
  }

  const created = await fetchJson(`${api}/api/v1/integrations`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'generic', name: 'worker-kill' }),
  });
  const before = pidOf(dataDir, 'worker');
  process.kill(before, 'SIGKILL');
  await launcher.waitFor(/the worker exited unexpectedly/, 30_000);

  // Accepted while no worker runs: stored, answered, and processed once the worker is back.
  const body = JSON.stringify({ type: 'Invoice updated', id: 'INV-while-down' });
  const res = await postSignedGeneric(api, created.body, body);
  expect(res.status).toBe(202);
  await launcher.waitFor(/the worker restarted/, 180_000);
  expect(pidOf(dataDir, 'worker')).not.toBe(before);
  const processed = await eventually(async () => {
    const got = await fetchJson(`${api}/api/v1/incoming-webhooks/${res.body.id}`, { headers: auth });
    return got.body.status === 'succeeded' ? got.body : undefined;
  }, 120_000);
  expect(processed.attempts).toHaveLength(1);
  // Its queries run at its priority too: PostgreSQL serves each connection from a process of its
  // own (in a session of its own), which would otherwise compete with the API's at full weight.
  const backends = await databaseBackends(dataDir, env);
  expect(backends.some((b) => b.app === 'switchyard-worker')).toBe(true);
  expect(backends.some((b) => b.app === 'switchyard-api')).toBe(true);
  for (const b of backends) {
    const background = b.app === 'switchyard-worker';
    expect([b.app, niceOf(b.pid)]).toEqual([b.app, background ? 19 : 0]);
    if (sessionNiceOf(b.pid) !== undefined) expect([b.app, sessionNiceOf(b.pid)]).toEqual([b.app, background ? 19 : 0]);
  }
  const health = await fetchJson(`${api}/healthz`);
  expect(health.body).toMatchObject({ parts: { worker: 'up' } });
  expect(await launcher.stop('SIGINT', 60_000)).toBe(0);
});

test('after a SIGKILLed launcher the watchdog stops its children, and the next start cleans any orphans', async () => {
  const dataDir = freshDir('sy-orphans-');
  const { env } = await launcherEnv(dataDir);
  const first = new ProductProcess('src/launcher.ts', env);
  await first.start(READY, 300_000);

  // A crash that takes the launcher and its watchdog: the children are orphans.
  process.kill(pidOf(dataDir, 'watchdog'), 'SIGKILL');
  const orphans = [pidOf(dataDir, 'temporal'), pidOf(dataDir, 'postgres')];
  const worker = pidOf(dataDir, 'worker');
  await first.stop('SIGKILL');
  expect(orphans.every(alive)).toBe(true);
  // The worker hears its launcher go (the IPC channel closes) and stops by itself.
  await eventually(async () => !alive(worker), 60_000);

  const second = new ProductProcess('src/launcher.ts', env);
  await second.start(READY, 300_000);
  expect(second.output).toMatch(/stopping temporal \(pid \d+\) left running by an earlier launcher/);
  expect(second.output).toMatch(/stopping postgres \(pid \d+\) left running by an earlier launcher/);
  expect(orphans.some(alive)).toBe(false);

  // The launcher alone SIGKILLed: its watchdog stops the children without waiting for a restart.
  const children = [pidOf(dataDir, 'temporal'), pidOf(dataDir, 'postgres'), pidOf(dataDir, 'worker')];
  await second.stop('SIGKILL');
  await eventually(async () => !children.some(alive), 30_000);
});

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
(asRoot ? test : test.skip)(
  'as root, from a directory the postgres user cannot reach, it starts and stops cleanly',
  async () => {
    const privateDir = freshDir('sy-private-');
    fs.chmodSync(privateDir, 0o700);
    const dataDir = path.join(privateDir, 'data');
    const { env, api } = await launcherEnv(dataDir);
    const launcher = new ProductProcess('src/launcher.ts', env);
    await launcher.start(READY, 300_000);
    const location = fs.readFileSync(path.join(dataDir, 'postgres.location'), 'utf8').trim();
    expect(location).toMatch(/^\/var\/lib\/switchyard\/data-[0-9a-f]+\/postgres$/);
    expect((await fetchJson(`${api}/readyz`)).status).toBe(200);
    const children = [pidOf(dataDir, 'temporal'), pidOf(dataDir, 'postgres')];
    expect(await launcher.stop('SIGINT', 60_000)).toBe(0);
    expect(children.some(alive)).toBe(false);
    execFileSync('rm', ['-rf', path.dirname(location)]);
  },
);

test('a start that fails stops what it started and says why in one line', async () => {
  const dataDir = freshDir('sy-fail-');
  const { env } = await launcherEnv(dataDir);
  // PostgreSQL's port is taken: the dev server has started by then and must be stopped again.
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(Number(env['EMBEDDED_POSTGRES_PORT']), '127.0.0.1', r));
  try {
    const launcher = new ProductProcess('src/launcher.ts', env);
    await expect(launcher.start(READY, 300_000)).rejects.toThrow(/exited \(1\)/);
    expect(launcher.output).toMatch(/switchyard: could not start: .*PostgreSQL/);
    expect(launcher.output).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(path.join(dataDir, 'run', 'temporal.pid'))).toBe(false);
  } finally {
    blocker.close();
  }
});
