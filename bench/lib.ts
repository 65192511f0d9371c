import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApiKey } from '../src/platform/security/api-credentials';
import { migrate } from '../src/platform/db/migrate';
import { createPool } from '../src/platform/db/pool';
import { createLogger } from '../src/platform/logger';
import { startEmbeddedPostgres } from '../src/embedded/embedded-postgres';
import { readPidFiles } from '../src/embedded/pid-files';
import { freePort } from '../test/harness/free-port';
import { ProductProcess } from '../test/harness/processes';
import { startTemporalCluster } from '../test/harness/temporal-cluster';

/** Percentile of an ascending-sorted list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export interface EmbeddedStack {
  apiUrl: string;
  apiKey: string;
  temporalUiUrl: string;
  /** gRPC address of the embedded Temporal dev server (for benchmarks that run their own worker). */
  temporalAddress: string;
  /** The namespace the product runs in there (the engine-ceiling workers use it too). */
  temporalNamespace: string;
  /** URL of the embedded PostgreSQL (for benchmarks that seed data directly). */
  databaseUrl: string;
  /**
   * The process whose tree holds the stack, for CPU accounting: the launcher (with PostgreSQL,
   * the worker and the dev server under it); on the cluster target only the api process.
   */
  pid: number;
  call(method: string, path: string, body?: unknown): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The (first) worker process's pid, for benchmarks that sample its memory. */
  workerPid(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Where benchmarks run (`npm run bench -- <name> --target dev|cluster`): `dev` is `npm start`'s
 * launcher (embedded Temporal dev server and PostgreSQL); `cluster` is the scale-out profile —
 * a real temporal-server on PostgreSQL (deploy/temporal, as the cluster suite starts it) with
 * separate api and worker processes.
 */
export type StackTarget = 'dev' | 'cluster';
let target: StackTarget = 'dev';
export function setStackTarget(value: string): void {
  if (value !== 'dev' && value !== 'cluster') throw new Error(`--target must be dev or cluster, not ${value}`);
  target = value;
}
export const stackTarget = (): StackTarget => target;

/** An admin API call with the stack's key: parsed JSON, or an error naming the answer. */
const apiCaller =
  (apiUrl: string, apiKey: string): EmbeddedStack['call'] =>
  async (method, p, body) => {
    const res = await fetch(`${apiUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json: unknown = await res.json();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

/** Starts the product for a benchmark on the chosen target (see setStackTarget), on free ports. */
export async function startEmbeddedStack(extraEnv: Record<string, string> = {}): Promise<EmbeddedStack> {
  return target === 'cluster' ? startClusterStack(extraEnv) : startLauncherStack(extraEnv);
}

/** `npm start`'s launcher on free ports with a throw-away data directory. */
async function startLauncherStack(extraEnv: Record<string, string>): Promise<EmbeddedStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-bench-'));
  // A caller may fix the port (e.g. to tell an emulator the callback URL before start).
  const httpPort = extraEnv['HTTP_PORT'] ? Number(extraEnv['HTTP_PORT']) : await freePort();
  const uiPort = await freePort();
  const pgPort = await freePort();
  const temporalAddress = `127.0.0.1:${await freePort()}`;
  const env = {
    ...process.env,
    SWITCHYARD_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
    PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
    EMBEDDED_POSTGRES_PORT: String(pgPort),
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_REQUESTS: '0',
    ...extraEnv,
  };
  const launcher = new ProductProcess('src/launcher.ts', env);
  // Generous: on a shared 2-core machine the dev server alone can take minutes to come up.
  await launcher.start(/Switchyard is running\./, 600_000).catch(async (err: unknown) => {
    await launcher.stop('SIGINT', 60_000);
    throw err;
  });
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  const apiKey = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  return {
    apiUrl,
    apiKey,
    temporalUiUrl: `http://localhost:${uiPort}`,
    temporalAddress,
    temporalNamespace: extraEnv['TEMPORAL_NAMESPACE'] ?? process.env['TEMPORAL_NAMESPACE'] ?? 'default',
    databaseUrl: `postgres://switchyard:${encodeURIComponent(
      fs.readFileSync(path.join(dataDir, 'postgres.credentials'), 'utf8').trim(),
    )}@127.0.0.1:${pgPort}/switchyard`,
    pid: launcher.child!.pid!,
    call: apiCaller(apiUrl, apiKey),
    workerPid: () => readPidFiles(dataDir).find((r) => r.name === 'worker')?.pid,
    stop: async () => {
      await launcher.stop('SIGINT', 60_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The scale-out profile: a real temporal-server (built on first use), PostgreSQL (DATABASE_URL as
 * an admin URL when set, else an embedded one), one api process and BENCH_WORKERS worker processes (1).
 */
async function startClusterStack(extraEnv: Record<string, string>): Promise<EmbeddedStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-bench-cluster-'));
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => say(`stop: ${String(err)}`));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    let adminUrl = process.env['DATABASE_URL'];
    if (!adminUrl) {
      const embedded = await startEmbeddedPostgres({
        dataDir, // the embedded server opens it to its own user when run as root
        port: await freePort(),
        logger: createLogger({ level: 'warn' }),
        database: 'postgres',
      });
      adminUrl = embedded.url;
      stops.push(() => embedded.stop());
    }
    const cluster = await startTemporalCluster({ adminDatabaseUrl: adminUrl, log: say });
    stops.push(() => cluster.stop());
    say(`temporal-server on ${cluster.address}; seconds: ${JSON.stringify(cluster.timings)}`);

    const name = `sy_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    stops.push(async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    });
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const databaseUrl = url.toString();
    const db = createPool(databaseUrl, 2);
    await migrate(db);
    const { apiKey } = await createApiKey(db, 'bench');
    await db.end();

    const httpPort = extraEnv['HTTP_PORT'] ? Number(extraEnv['HTTP_PORT']) : await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: cluster.namespace,
      SWITCHYARD_MASTER_KEY: randomBytes(32).toString('base64'),
      PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
      HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_REQUESTS: '0',
      ...extraEnv,
    };
    const workers = Array.from({ length: Number(process.env['BENCH_WORKERS'] ?? 1) }, () => {
      const w = new ProductProcess('src/worker.ts', { ...env, LOG_LEVEL: 'info' });
      stops.push(async () => void (await w.stop('SIGTERM', 60_000)));
      return w;
    });
    const api = new ProductProcess('src/server.ts', { ...env, LOG_LEVEL: 'info' });
    stops.push(async () => void (await api.stop('SIGTERM', 60_000)));
    await Promise.all([
      api.start(/"msg":"api listening"/, 300_000),
      ...workers.map((w) => w.start(/worker running/, 300_000)),
    ]);
    const apiUrl = `http://127.0.0.1:${httpPort}`;
    return {
      apiUrl,
      apiKey,
      temporalUiUrl: '',
      temporalAddress: cluster.address,
      temporalNamespace: cluster.namespace,
      databaseUrl,
      pid: api.child!.pid!,
      call: apiCaller(apiUrl, apiKey),
      workerPid: () => workers[0]?.child?.pid,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
