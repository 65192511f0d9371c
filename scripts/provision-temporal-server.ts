/**
 * temporal-server and temporal-sql-tool (pinned version) for the cluster profile: `npm install`
 * builds them together with the Temporal CLI (scripts/postinstall.ts); this reuses that build,
 * or builds them now when they are missing (`npm run provision:temporal-server`, the cluster
 * test's setup, `npm run bench -- <name> --target cluster`).
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { findTemporalServer, MISSING_SERVER_HELP, type TemporalServerBinaries } from '../src/embedded/temporal-server';
import { buildTemporalBinaries } from './build-temporal-binaries';

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
  await buildTemporalBinaries(['server'], say);
  const built = findTemporalServer();
  if (!built) throw new Error('the build finished but the binaries are not in the cache');
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
