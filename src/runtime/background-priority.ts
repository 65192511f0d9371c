import fs from 'node:fs';

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
