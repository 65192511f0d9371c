import type { ChildProcess } from 'node:child_process';

/** Settles once the child has exited, with "code 1" or "signal SIGKILL"; never rejects. */
export function describeExit(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(`code ${child.exitCode}`);
    if (child.signalCode !== null) return resolve(`signal ${child.signalCode}`);
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    child.once('error', (err) => resolve(`error ${err.message}`));
  });
}
