import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './paths';

/** A product process (api, worker, launcher) run as the user runs it: a real child process. */
export class ProductProcess {
  child: ChildProcess | undefined;
  output = '';
  private readonly lineWaiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];

  /**
   * `script` is a source file run with node and tsx, or, `via: 'npm'`, an npm script run as a
   * person types it (`npm <script>`), in its own process group as a terminal's foreground job is.
   */
  constructor(
    readonly script: string,
    readonly env: NodeJS.ProcessEnv,
    readonly args: string[] = [],
    readonly via: 'node' | 'npm' = 'node',
  ) {}

  /** Starts the process and resolves when a log line matches `ready`. */
  async start(ready: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    this.output = '';
    const options: SpawnOptions = { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] };
    const child =
      this.via === 'npm'
        ? spawn('npm', ['run', this.script, '--', ...this.args], { ...options, detached: true })
        : spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, this.script), ...this.args], options);
    this.child = child;
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const w of [...this.lineWaiters]) {
        const m = this.output.match(w.re);
        if (m) {
          this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return this.waitFor(ready, timeoutMs);
  }

  waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const m = this.output.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`${this.script}: no line matching ${re} in ${timeoutMs} ms. Output:\n${this.output.slice(-3000)}`),
        );
      }, timeoutMs);
      const exitListener = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${this.script} exited (${code}) before ${re}. Output:\n${this.output.slice(-3000)}`));
      };
      this.child?.once('exit', exitListener);
      this.lineWaiters.push({
        re,
        resolve: (match) => {
          clearTimeout(timer);
          this.child?.off('exit', exitListener);
          resolve(match);
        },
      });
    });
  }

  /** Signals the whole process group, as Ctrl-C at a terminal does (`via: 'npm'` only). */
  signalGroup(signal: NodeJS.Signals): void {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(-child.pid, signal);
  }

  /** Sends a signal and waits for the exit; returns the exit code (null when killed by signal). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
