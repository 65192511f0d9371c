import { spawn } from 'node:child_process';

export interface GoResult {
  code: number;
  output: string;
}

/**
 * `go <args>` in the module at `cwd` (`go install -v` prints each compiled package: progress is
 * reported every 50); retried once with GOSUMDB=off when only the checksum database is
 * unreachable (the modules' go.sum files still pin every dependency).
 */
export async function goCommand(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  say: (line: string) => void,
): Promise<GoResult> {
  let result = await run(args, cwd, env, say);
  if (result.code !== 0 && /sum\.golang\.org|checksum database|verifying module/i.test(result.output)) {
    say('Go checksum database unreachable; retrying with GOSUMDB=off');
    result = await run(args, cwd, { ...env, GOSUMDB: 'off' }, say);
  }
  return result;
}

function run(args: string[], cwd: string, env: Record<string, string>, say: (line: string) => void): Promise<GoResult> {
  return new Promise((resolve) => {
    // -mod=mod: the module's go.sum is written as dependencies are resolved; GOWORK=off: a
    // workspace the user has set up elsewhere does not leak into this build.
    const child = spawn('go', args, {
      cwd,
      env: { ...process.env, GOFLAGS: '-mod=mod', GOWORK: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let compiled = 0;
    const started = Date.now();
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n')) {
        if (!line.trim() || line.startsWith('go: downloading')) continue;
        compiled++;
        if (compiled % 50 === 0) say(`compiled ${compiled} packages (${Math.round((Date.now() - started) / 1000)} s)…`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => resolve({ code: 1, output: `${output}\n${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}
