/**
 * The launcher runs its background parts (the worker, the Temporal dev server) under `nice`, so
 * that on a machine with few cores the API answering providers gets the CPU first: ingress only
 * has to commit to PostgreSQL, while processing can fall behind for a while and catch up.
 * Started under `nice` rather than reniced afterwards because Linux priorities are per thread,
 * and threads a process made before a renice would keep the old one.
 */
export function withNice(command: string, args: string[], nice: number): { command: string; args: string[] } {
  if (nice <= 0 || process.platform === 'win32') return { command, args };
  return { command: 'nice', args: ['-n', String(nice), command, ...args] };
}
