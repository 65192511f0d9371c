import { spawn } from 'node:child_process';
import { runDir, writePidFile } from './pid-files';

/**
 * Node has no PR_SET_PDEATHSIG, so children started in their own process group would outlive a
 * SIGKILLed launcher. A tiny detached watchdog polls its parent; once the launcher is gone (it
 * is reparented) it stops every process recorded in the run directory, checked against its
 * command line, and exits. Plain JavaScript so it starts in milliseconds without a loader.
 */
const WATCHDOG_JS = `
const fs = require('fs'), path = require('path');
const [launcher, dir] = [Number(process.argv[1]), process.argv[2]];
const ours = (r) => { try { return fs.readFileSync('/proc/' + r.pid + '/cmdline', 'utf8').split('\\0').join(' ').includes(r.match); } catch { return false; } };
const sweep = () => {
  let recs = [];
  try { recs = fs.readdirSync(dir).filter((n) => n.endsWith('.pid') && n !== 'launcher.pid' && n !== 'watchdog.pid')
    .map((n) => { try { return JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')); } catch { return null; } })
    .filter((r) => r && ours(r)); } catch {}
  for (const r of recs) { try { process.kill(r.pid, r.signal); } catch {} }
  const deadline = Date.now() + 10000;
  const wait = () => {
    const left = recs.filter(ours);
    if (left.length === 0) process.exit(0);
    if (Date.now() > deadline) { for (const r of left) { try { process.kill(r.pid, 'SIGKILL'); } catch {} } process.exit(0); }
    setTimeout(wait, 200);
  };
  wait();
};
process.on('SIGTERM', () => process.exit(0));
const timer = setInterval(() => { if (process.ppid !== launcher) { clearInterval(timer); sweep(); } }, 500);
`;

export interface Watchdog {
  stop(): void;
}

export function startWatchdog(dataDir: string): Watchdog {
  const child = spawn(process.execPath, ['-e', WATCHDOG_JS, String(process.pid), runDir(dataDir)], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  // Recorded too, so a start after a crash that took the launcher and its watchdog finds it.
  writePidFile(dataDir, { name: 'watchdog', pid: child.pid!, match: runDir(dataDir), signal: 'SIGTERM' });
  return {
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
