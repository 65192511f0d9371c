import fs from 'node:fs';
import path from 'node:path';

/**
 * Pid files under `<dataDir>/run`: one per child the launcher starts, naming the process, a
 * string its command line must contain (so a reused pid is never mistaken for ours) and the
 * signal that stops it cleanly. The orphan sweep at start-up and the watchdog both read them.
 */
export interface PidRecord {
  name: string;
  pid: number;
  /** A fragment of /proc/<pid>/cmdline that identifies this process as ours. */
  match: string;
  signal: NodeJS.Signals;
}

export const runDir = (dataDir: string) => path.join(dataDir, 'run');

export function writePidFile(dataDir: string, rec: PidRecord): void {
  fs.mkdirSync(runDir(dataDir), { recursive: true });
  fs.writeFileSync(path.join(runDir(dataDir), `${rec.name}.pid`), JSON.stringify(rec));
}

export function removePidFile(dataDir: string, name: string): void {
  fs.rmSync(path.join(runDir(dataDir), `${name}.pid`), { force: true });
}

export function readPidFiles(dataDir: string): PidRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(runDir(dataDir)).filter((n) => n.endsWith('.pid'));
  } catch {
    return [];
  }
  const records: PidRecord[] = [];
  for (const n of names) {
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(runDir(dataDir), n), 'utf8')) as PidRecord;
      if (Number.isInteger(rec.pid) && rec.pid > 1 && typeof rec.match === 'string') records.push(rec);
    } catch {
      // A torn or foreign file: nothing we can act on safely.
    }
  }
  return records;
}

/** True when `pid` is alive and its command line contains `match` (so it is the process we started). */
export function isOurs(pid: number, match: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return cmdline.includes(match) && !isZombie(pid);
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops one recorded process: its clean signal, then SIGKILL after `graceMs`. Resolves once it is gone. */
export async function stopRecorded(rec: PidRecord, graceMs = 10_000): Promise<void> {
  if (!isOurs(rec.pid, rec.match)) return;
  try {
    process.kill(rec.pid, rec.signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isOurs(rec.pid, rec.match)) {
    if (Date.now() > deadline) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await sleep(100);
  }
}
