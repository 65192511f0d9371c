import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (100 on Linux almost everywhere). */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, plus cutime + cstime: children that exited and were reaped count for their parent. */
  seconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // comm is in parentheses and may hold spaces: the fields start after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text
    .slice(close + 2)
    .split(' ')
    .map(Number);
  // After comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  return { pid, ppid: f[1]!, comm, seconds: (f[11]! + f[12]! + f[13]! + f[14]!) / TICKS };
}

/** Every live process under `root` (itself included), by pid. */
export function processTree(root: number): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.set(s.pid, s);
  }
  const tree = new Map<number, ProcStat>();
  const walk = (pid: number) => {
    const s = all.get(pid);
    if (!s || tree.has(pid)) return;
    tree.set(pid, s);
    for (const c of all.values()) if (c.ppid === pid) walk(c.pid);
  };
  walk(root);
  return tree;
}

/** CPU seconds of a process tree by part: PostgreSQL, the root node process, other node processes, Temporal. */
export type CpuSplit = Record<'postgres' | 'api' | 'worker' | 'temporal' | 'other', number>;

const partOf = (s: ProcStat, root: number): keyof CpuSplit =>
  s.pid === root
    ? 'api'
    : s.comm.startsWith('postgres')
      ? 'postgres'
      : s.comm.startsWith('temporal')
        ? 'temporal'
        : isWorker(s.pid)
          ? 'worker'
          : 'other';

const workers = new Map<number, boolean>();
/** The worker is the node process running src/worker.ts (the launcher's watchdog and esbuild are "other"). */
function isWorker(pid: number): boolean {
  let known = workers.get(pid);
  if (known === undefined) {
    try {
      known = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker.ts');
    } catch {
      known = false;
    }
    workers.set(pid, known);
  }
  return known;
}

/** A snapshot to subtract later: `cpuSince(snapshot)` is what the tree spent in between. */
export function cpuSnapshot(root: number): { root: number; at: Map<number, ProcStat> } {
  return { root, at: processTree(root) };
}

/**
 * CPU seconds the tree spent since `before`, split by part. A process born in between counts
 * whole; one that exited in between is in its parent's cutime/cstime by now.
 */
export function cpuSince(before: ReturnType<typeof cpuSnapshot>): CpuSplit & { total: number } {
  const split: CpuSplit = { postgres: 0, api: 0, worker: 0, temporal: 0, other: 0 };
  for (const s of processTree(before.root).values()) {
    split[partOf(s, before.root)] += s.seconds - (before.at.get(s.pid)?.seconds ?? 0);
  }
  return { ...split, total: Object.values(split).reduce((a, b) => a + b, 0) };
}

/** The API (the root) and the worker: the processes the profile hook runs in. */
export function nodeProcesses(snapshot: ReturnType<typeof cpuSnapshot>): number[] {
  return [...snapshot.at.values()].filter((s) => s.pid === snapshot.root || isWorker(s.pid)).map((s) => s.pid);
}
