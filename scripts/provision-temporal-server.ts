/**
 * Builds the real Temporal server for the cluster profile (`temporal-server` and
 * `temporal-sql-tool`, pinned version) with `go install` into a per-user cache, and reuses that
 * build afterwards. Run on demand (`npx tsx scripts/provision-temporal-server.ts`, the cluster
 * test's setup, `npm run bench -- <name> --target cluster`), not by `npm install`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  findTemporalServer,
  MISSING_SERVER_HELP,
  TEMPORAL_SERVER_BINARIES,
  TEMPORAL_SERVER_MODULE,
  TEMPORAL_SERVER_VERSION,
  temporalServerCacheDir,
  type TemporalServerBinaries,
} from '../src/embedded/temporal-server';
import { goInstall } from './go-install';

const defaultSay = (line: string) => process.stdout.write(`[temporal-server] ${line}\n`);

export async function provisionTemporalServer(
  say: (line: string) => void = defaultSay,
): Promise<TemporalServerBinaries> {
  const existing = findTemporalServer();
  if (existing) {
    say(`using ${path.dirname(existing.server)}`);
    return existing;
  }
  if (spawnSync('go', ['version']).status !== 0) throw new Error(MISSING_SERVER_HELP);

  const dir = temporalServerCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  // Built into a private directory and renamed into place, so a half-built cache is never used.
  const staging = fs.mkdtempSync(path.join(dir, '.build-'));
  try {
    const packages = TEMPORAL_SERVER_BINARIES.map(
      (b) => `${TEMPORAL_SERVER_MODULE}/${b.pkg}@${TEMPORAL_SERVER_VERSION}`,
    );
    say(`building ${packages.join(' and ')} into ${dir}`);
    say('a first build takes several minutes of CPU; later runs reuse it');
    const started = Date.now();
    const result = await goInstall(packages, staging, say);
    if (result.code !== 0) {
      process.stderr.write(result.output.split('\n').slice(-30).join('\n'));
      throw new Error(`go install failed (exit ${result.code}).\n${MISSING_SERVER_HELP}`);
    }
    for (const b of TEMPORAL_SERVER_BINARIES) fs.renameSync(path.join(staging, b.built), path.join(dir, b.name));
    say(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const built = findTemporalServer();
  if (!built) throw new Error(`build finished but ${dir} lacks the binaries`);
  return built;
}

if (require.main === module) {
  provisionTemporalServer().then(
    (b) => defaultSay(`ready: ${b.server}, ${b.sqlTool}`),
    (err: unknown) => {
      process.stderr.write(`[temporal-server] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
