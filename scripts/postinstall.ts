/**
 * `npm install`'s postinstall: everything `npm start` and `npm test` need beyond node_modules.
 * - The Temporal CLI (embedded dev server), plus temporal-server and temporal-sql-tool (the
 *   cluster profile and its test): TEMPORAL_CLI_PATH or `temporal` on PATH when present, else the
 *   pinned versions built by one `go install` into per-user caches that later installs reuse.
 *   SWITCHYARD_SKIP_TEMPORAL_CLI=1 skips this.
 * - Debian's Chromium for the browser tests (scripts/ensure-chromium.ts), installed while Go
 *   compiles: one waits on the network and disk, the other on the CPU.
 */
import { spawnSync } from 'node:child_process';
import { findTemporalCli, MISSING_CLI_HELP } from '../src/embedded/temporal-cli';
import { findTemporalServer, MISSING_SERVER_HELP } from '../src/embedded/temporal-server';
import { buildTemporalBinaries, type TemporalBinarySet } from './build-temporal-binaries';
import { ensureChromium } from './ensure-chromium';

const sayAs = (prefix: string) => (line: string) => process.stdout.write(`[${prefix}] ${line}\n`);

async function provisionTemporal(say: (line: string) => void): Promise<void> {
  if (process.env['SWITCHYARD_SKIP_TEMPORAL_CLI'] === '1') return say('skipped (SWITCHYARD_SKIP_TEMPORAL_CLI=1)');
  const missing: TemporalBinarySet[] = [];
  const cli = findTemporalCli(process.env['TEMPORAL_CLI_PATH']);
  if (cli) say(`using ${cli}`);
  else if (process.env['TEMPORAL_CLI_PATH'])
    throw new Error(`TEMPORAL_CLI_PATH=${process.env['TEMPORAL_CLI_PATH']} does not exist`);
  else missing.push('cli');
  const server = findTemporalServer();
  if (server) say(`using ${server.server}`);
  else missing.push('server');
  if (missing.length === 0) return;
  if (spawnSync('go', ['version']).status !== 0) {
    if (missing.includes('cli')) throw new Error(MISSING_CLI_HELP);
    return say(MISSING_SERVER_HELP); // only the cluster profile (and its test) needs these
  }
  await buildTemporalBinaries(missing, say);
}

async function main() {
  const [temporal] = await Promise.allSettled([
    provisionTemporal(sayAs('temporal')),
    ensureChromium(sayAs('chromium')),
  ]);
  if (temporal.status === 'rejected') {
    const err: unknown = temporal.reason;
    process.stderr.write(`[temporal] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

void main();
