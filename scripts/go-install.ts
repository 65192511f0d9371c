import { spawn } from 'node:child_process';

/**
 * `go install -v <packages>` into `gobin`, printing progress every 50 compiled packages; retried
 * once with GOSUMDB=off when only the checksum database is unreachable (each module's go.sum
 * still pins every dependency).
 */
export async function goInstall(
  packages: string[],
  gobin: string,
  say: (line: string) => void,
): Promise<{ code: number; output: string }> {
  let result = await run(packages, gobin, say, {});
  if (result.code !== 0 && /sum\.golang\.org|checksum database|verifying module/i.test(result.output)) {
    say('Go checksum database unreachable; retrying with GOSUMDB=off');
    result = await run(packages, gobin, say, { GOSUMDB: 'off' });
  }
  return result;
}

function run(
  packages: string[],
  gobin: string,
  say: (line: string) => void,
  extraEnv: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('go', ['install', '-v', ...packages], {
      env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod', ...extraEnv },
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
