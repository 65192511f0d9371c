import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Logger } from '../platform/logger';
import { lowerSessionPriority, withNice } from '../platform/background-priority';
import { describeExit } from './child-exit';
import type { ChildHandle } from './supervisor';

export interface WorkerProcessOptions {
  /** The launcher's data directory; it names the process in its command line (pid files match on it). */
  dataDir: string;
  /** The embedded PostgreSQL's URL when the launcher started one. */
  databaseUrl: string | undefined;
  /** The master key the launcher uses: the worker must encrypt and decrypt with the same one. */
  masterKey: string;
  nice: number;
  /** How long a stop waits for in-flight activities before SIGKILL. */
  graceMs: number;
  /** The launcher's resolved log format: the worker writes to the launcher's stdout, so it matches. */
  logFormat: 'pretty' | 'json';
  logger: Logger;
}

/** What a worker under the launcher tells its parent over the IPC channel. */
export type WorkerMessage = { type: 'ready' };

const READY_TIMEOUT_MS = 120_000;

/**
 * The Temporal worker (and an intake starter) as its own process under the launcher, rather
 * than in the API's process: activities, workflow activations and starts then never queue
 * behind, or ahead of, a provider's request on one event loop, and the process runs at
 * background priority. It is the same `src/worker.ts` that `npm run worker` runs.
 */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<ChildHandle> {
  const script = path.join(__dirname, '..', `worker${path.extname(__filename)}`);
  const marker = `--switchyard-data-dir=${path.resolve(o.dataDir)}`;
  // execArgv carries the TypeScript loader when the launcher runs from source.
  const run = withNice(process.execPath, [...process.execArgv, script, marker], o.nice);
  const child = spawn(run.command, run.args, {
    // Its own process group, as the dev server: Ctrl-C reaches the launcher, which stops it in order.
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      LOG_FORMAT: o.logFormat,
      SWITCHYARD_MASTER_KEY: o.masterKey,
      ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
    },
  });
  lowerSessionPriority(child.pid, o.nice);
  const exited = describeExit(child);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the worker did not start within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    child.on('message', (m: WorkerMessage) => {
      if (m?.type !== 'ready') return;
      clearTimeout(timer);
      resolve();
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited while starting (${how})`));
    });
  });
  o.logger.info({ pid: child.pid, nice: o.nice }, 'worker process started');

  return {
    record: { pid: child.pid!, match: marker, signal: 'SIGTERM' },
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), o.graceMs);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}
