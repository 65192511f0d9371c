import fs from 'node:fs';
import os from 'node:os';
import type { Pool } from 'pg';
import type { Logger } from './logger';

/**
 * The launcher runs its background parts (the worker, the Temporal dev server) at a lower CPU
 * priority, so that on a machine with few cores the API answering providers, and the
 * PostgreSQL it commits to, get the CPU first: ingress only has to commit, while processing can
 * fall behind for a while and catch up.
 *
 * Two settings make that hold on Linux. `nice` on the command, rather than a renice afterwards,
 * because priorities are per thread and threads made before a renice keep the old one. And the
 * nice value of the child's autogroup: each of these children runs in its own session, and
 * with autogroup scheduling (the default on desktop and many server kernels) the scheduler first
 * shares the CPU equally between sessions and only then by nice value within one — so a
 * process's nice alone would not yield to the API at all.
 */
export function withNice(command: string, args: string[], nice: number): { command: string; args: string[] } {
  if (nice <= 0 || process.platform === 'win32') return { command, args };
  return { command: 'nice', args: ['-n', String(nice), command, ...args] };
}

/**
 * Lowers the priority of the autogroup (session) a just-started detached child leads. Best
 * effort: without autogroup support there is no file, and per-process nice is what counts.
 */
export function lowerSessionPriority(pid: number | undefined, nice: number): void {
  if (pid === undefined || nice <= 0 || process.platform !== 'linux') return;
  try {
    fs.writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // No autogroup scheduling here (or the child already exited): nothing to lower.
  }
}

/**
 * PostgreSQL serves each connection from a backend process of its own, at the server's priority
 * and, as it calls setsid, in an autogroup of its own: the queries of a lowered worker would
 * still run at full priority, each backend with as large a share of the CPU as the whole API.
 * This gives the backends behind `db`'s connections the calling process's own nice, when that is
 * lowered and the server is a PostgreSQL process on this machine (reached over a Unix socket,
 * and its pid is a `postgres` child of a `postgres`): a pid from another host means nothing here.
 */
export function backendsFollowOwnPriority(db: Pool, logger: Logger): void {
  const nice = os.getPriority();
  if (nice <= 0 || process.platform !== 'linux') return;
  db.on('connect', (client) => {
    const { host, processID } = client as unknown as { host?: string; processID?: number | null };
    if (!String(host ?? '').startsWith('/')) return;
    // The backend's pid came with the connection (BackendKeyData): asking for pg_backend_pid()
    // here would run a query on a client the pool is at that moment handing to its caller, and
    // pg warns about (and pg 9 refuses) two queries at once on one client.
    const server = typeof processID === 'number' ? postgresServerOf(processID) : undefined;
    if (processID === undefined || processID === null || server === undefined) return;
    try {
      os.setPriority(processID, nice);
      // Only an autogroup of the backend's own: lowering one it shared with the server would
      // lower every other client's backends too.
      if (autogroupOf(processID) !== autogroupOf(server)) lowerSessionPriority(processID, nice);
    } catch (err) {
      logger.debug({ err: String(err) }, 'could not lower a database backend');
    }
  });
}

/** `comm` and parent pid from /proc/<pid>/stat (comm may hold spaces and parentheses). */
function procStat(pid: number): { comm: string; ppid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(stat.slice(close + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}

const autogroupOf = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/autogroup`, 'utf8').split(' ')[0];
  } catch {
    return undefined;
  }
};

/** The server's pid when `pid` is a `postgres` child of a `postgres` on this machine. */
function postgresServerOf(pid: number): number | undefined {
  const backend = procStat(pid);
  if (backend?.comm !== 'postgres' || procStat(backend.ppid)?.comm !== 'postgres') return undefined;
  return backend.ppid;
}
