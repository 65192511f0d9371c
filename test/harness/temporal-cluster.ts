import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { provisionTemporalServer } from '../../scripts/provision-temporal-server';
import { findTemporalCli, MISSING_CLI_HELP } from '../../src/embedded/temporal-cli';
import { ROOT } from './paths';

/** deploy/temporal: the server config and setup script docker-compose.yml uses too. */
export const TEMPORAL_DEPLOY_DIR = path.join(ROOT, 'deploy', 'temporal');

/** temporal-server's command line for the config in `root` (docker-compose.yml runs the same). */
export const temporalServerArgs = (root: string) => [
  '--root',
  root,
  '--config',
  '.',
  '--env',
  'switchyard',
  '--allow-no-auth',
  'start',
];

export interface TemporalCluster {
  address: string;
  namespace: string;
  /** Seconds each phase took: build (0 when cached), schema, start, namespace. */
  timings: Record<string, number>;
  /** The server's own log (stdout and stderr), for diagnosis. */
  output(): string;
  /** Kills the server (SIGKILL unless told otherwise) and starts it again on the same ports and databases. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the server and drops its databases. */
  stop(): Promise<void>;
}

export interface TemporalClusterOptions {
  /** PostgreSQL URL of a role that may create databases; the cluster's two databases are created beside it. */
  adminDatabaseUrl: string;
  namespace?: string;
  retentionDays?: number;
  log?: (line: string) => void;
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      for (const line of output.split('\n')) if (line.startsWith('[temporal-setup]')) log(line);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/**
 * A real Temporal server (temporal-server built by scripts/provision-temporal-server.ts) with
 * PostgreSQL persistence and visibility in two fresh databases, configured by
 * deploy/temporal/switchyard.yaml and set up by deploy/temporal/setup.sh — what
 * docker-compose.yml runs — on free local ports.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const namespace = options.namespace ?? 'switchyard';
  const timings: Record<string, number> = {};

  let t = Date.now();
  const binaries = await provisionTemporalServer((line) => log(`[temporal-server] ${line}`));
  timings['build'] = seconds(t);
  const cli = findTemporalCli(process.env['TEMPORAL_CLI_PATH']);
  if (!cli) throw new Error(MISSING_CLI_HELP);

  const admin = new URL(options.adminDatabaseUrl);
  const suffix = randomBytes(4).toString('hex');
  const databases = [`sy_temporal_${suffix}`, `sy_temporal_vis_${suffix}`] as const;
  const [
    frontend,
    frontendMembership,
    frontendHttp,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
  ] = await lowFreePorts(9);
  const address = `127.0.0.1:${frontend}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    SQL_HOST: admin.hostname,
    SQL_PORT: admin.port || '5432',
    SQL_USER: decodeURIComponent(admin.username),
    SQL_PASSWORD: decodeURIComponent(admin.password),
    TEMPORAL_DB: databases[0],
    TEMPORAL_VISIBILITY_DB: databases[1],
    TEMPORAL_SQL_TOOL: binaries.sqlTool,
    TEMPORAL_CLI: cli,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_RETENTION_DAYS: String(options.retentionDays ?? 30),
    TEMPORAL_FRONTEND_PORT: String(frontend),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(frontendMembership),
    TEMPORAL_FRONTEND_HTTP_PORT: String(frontendHttp),
    TEMPORAL_HISTORY_PORT: String(history),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(historyMembership),
    TEMPORAL_MATCHING_PORT: String(matching),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(matchingMembership),
    TEMPORAL_WORKER_PORT: String(worker),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(workerMembership),
  };
  const setup = path.join(TEMPORAL_DEPLOY_DIR, 'setup.sh');

  t = Date.now();
  await run('sh', [setup, 'schema'], env, log);
  timings['schema'] = seconds(t);

  let child: ChildProcess | undefined;
  let output = '';
  const startServer = async () => {
    const started = spawn(binaries.server, temporalServerArgs(TEMPORAL_DEPLOY_DIR), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    };
    started.stdout!.on('data', onData);
    started.stderr!.on('data', onData);
    await waitServing(address, started, () => output);
  };
  const killServer = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  const dropDatabases = async () => {
    const client = new pg.Client({ connectionString: options.adminDatabaseUrl });
    await client.connect();
    for (const db of databases) await client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await client.end();
  };
  try {
    t = Date.now();
    await startServer();
    timings['start'] = seconds(t);
    t = Date.now();
    await run('sh', [setup, 'namespace'], env, log);
  } catch (err) {
    await killServer('SIGKILL');
    await dropDatabases();
    throw err;
  }
  timings['namespace'] = seconds(t);

  return {
    address,
    namespace,
    timings,
    output: () => output,
    restart: async (signal = 'SIGKILL') => {
      await killServer(signal);
      await startServer();
      await waitNamespace(address, namespace);
    },
    stop: async () => {
      await killServer('SIGTERM');
      await dropDatabases();
    },
  };
}

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * Free ports below the usual ephemeral range: Temporal stores each service's membership port
 * in a PostgreSQL smallint column, so ports above 32767 are refused.
 */
async function lowFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    const port = randomInt(20_000, 32_000);
    if (!ports.has(port) && (await isFree(port))) ports.add(port);
  }
  return [...ports];
}

/** Waits until the frontend answers its health check (or the process dies). */
async function waitServing(address: string, child: ChildProcess, output: () => string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`temporal-server exited (${child.exitCode ?? child.signalCode}):\n${output().slice(-4000)}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        const res = await connection.healthService.check({});
        if (res.status === 1) return; // SERVING
      } finally {
        await connection.close();
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`temporal-server not serving on ${address} after ${timeoutMs} ms:\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until the namespace answers a describe (after a restart the registry reloads it). */
async function waitNamespace(address: string, namespace: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
