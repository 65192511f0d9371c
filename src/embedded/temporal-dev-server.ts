import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../platform/logger';
import { lowerSessionPriority, withNice } from '../platform/background-priority';
import { describeExit } from './child-exit';
import type { ChildHandle } from './supervisor';
import { ALL_SEARCH_ATTRIBUTES } from '../platform/temporal/search-attributes';

export interface DevServerOptions {
  cliPath: string;
  dataDir: string;
  host: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** `nice` value to run it at (0: as the launcher); see background-priority.ts. */
  nice: number;
  logger: Logger;
}

export interface DevServer extends ChildHandle {
  address: string;
}

function waitForPort(host: string, port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        return reject(
          new Error(`the Temporal dev server exited (${child.exitCode ?? child.signalCode}); see temporal.log`),
        );
      }
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`Temporal did not open ${host}:${port} in ${timeoutMs} ms`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

/**
 * Starts `temporal server start-dev` persisted to `<dataDir>/temporal.db`. Search attributes
 * given here only apply to a new database; `ensureSearchAttributes` covers restarts.
 */
export async function startTemporalDevServer(o: DevServerOptions): Promise<DevServer> {
  fs.mkdirSync(o.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(o.dataDir, 'temporal.db'),
    '--ip',
    o.host,
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--namespace',
    o.namespace,
    '--log-level',
    'warn',
    // WAL with NORMAL sync: crash-safe (no corruption, at most the last commits lost on power
    // loss) and many times faster than the default rollback journal for workflow writes.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
  ];
  const logFile = fs.openSync(path.join(o.dataDir, 'temporal.log'), 'a');
  // Its own process group: Ctrl-C reaches only the launcher, which stops children in order.
  const run = withNice(o.cliPath, args, o.nice);
  const child = spawn(run.command, run.args, { stdio: ['ignore', logFile, logFile], detached: true });
  lowerSessionPriority(child.pid, o.nice);
  fs.closeSync(logFile);
  const exited = describeExit(child);
  try {
    await waitForPort(o.host, o.port, 60_000, child);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw err;
  }
  o.logger.info({ address: `${o.host}:${o.port}`, ui: `http://localhost:${o.uiPort}` }, 'temporal dev server started');
  return {
    address: `${o.host}:${o.port}`,
    record: { pid: child.pid!, match: path.join(o.dataDir, 'temporal.db'), signal: 'SIGTERM' },
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}
