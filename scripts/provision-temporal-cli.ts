/**
 * The install step's Temporal CLI provisioning (run by `npm install` as postinstall).
 * Uses TEMPORAL_CLI_PATH or `temporal` on PATH when present; otherwise builds the pinned
 * version with `go install` into a per-user cache that later installs reuse.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  findTemporalCli,
  MISSING_CLI_HELP,
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_VERSION,
  temporalCliCacheDir,
} from '../src/embedded/temporal-cli';
import { goInstall } from './go-install';

const say = (line: string) => process.stdout.write(`[temporal-cli] ${line}\n`);

async function main() {
  if (process.env['SWITCHYARD_SKIP_TEMPORAL_CLI'] === '1') return say('skipped (SWITCHYARD_SKIP_TEMPORAL_CLI=1)');
  const existing = findTemporalCli(process.env['TEMPORAL_CLI_PATH']);
  if (existing) return say(`using ${existing}`);
  if (process.env['TEMPORAL_CLI_PATH']) {
    throw new Error(`TEMPORAL_CLI_PATH=${process.env['TEMPORAL_CLI_PATH']} does not exist`);
  }
  if (spawnSync('go', ['version']).status !== 0) throw new Error(MISSING_CLI_HELP);

  const gobin = temporalCliCacheDir();
  fs.mkdirSync(gobin, { recursive: true });
  say(`building ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} into ${gobin}`);
  say('a first build takes several minutes; Go caches make later ones fast');
  const result = await goInstall([`${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], gobin, say);
  if (result.code !== 0) {
    process.stderr.write(result.output.split('\n').slice(-30).join('\n'));
    throw new Error(`go install failed (exit ${result.code}).\n${MISSING_CLI_HELP}`);
  }
  say(`built ${path.join(gobin, 'temporal')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[temporal-cli] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
