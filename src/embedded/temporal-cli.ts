import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli';
/** The CLI's main package inside its module. */
export const TEMPORAL_CLI_PACKAGE = 'cmd/temporal';

/** Per-user cache the install step builds into and every later install reuses. */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'switchyard', 'temporal-cli', TEMPORAL_CLI_VERSION);
}

function onPath(name: string): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    return found || undefined;
  } catch {
    return undefined;
  }
}

/** The Temporal CLI to use: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the cached build. */
export function findTemporalCli(explicit?: string): string | undefined {
  if (explicit) return fs.existsSync(explicit) ? explicit : undefined;
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const cached = path.join(temporalCliCacheDir(), 'temporal');
  return fs.existsSync(cached) ? cached : undefined;
}

export const MISSING_CLI_HELP = [
  'The Temporal CLI was not found. Switchyard needs it for the embedded Temporal dev server.',
  'Either:',
  `  - install Go (https://go.dev/dl) and run \`npm install\` again (it builds ${TEMPORAL_CLI_MODULE}/${TEMPORAL_CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}), or`,
  '  - put a `temporal` binary on PATH, or set TEMPORAL_CLI_PATH to one.',
].join('\n');
