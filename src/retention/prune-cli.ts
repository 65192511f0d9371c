import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../platform/config';
import { cliDatabaseUrl } from '../platform/db/cli-database-url';
import { beginRetentionRun, countPrunable, finishRetentionRun, pruneBatch, setPruned } from './db';
import { createBaseContext } from '../platform/context';
import { cutoffs, retentionSettings } from './settings';

/**
 * `npm run prune [-- --dry-run]`: prunes every log past its retention now, as the daily
 * `retention` workflow does (same batches and pauses), and prints the rows per log. With
 * `--dry-run` it only counts. Uses DATABASE_URL, else the embedded database of `npm start`
 * (which must be running).
 */
async function main() {
  const dryRun = process.argv.includes('--dry-run');
  const config = loadConfig();
  const ctx = createBaseContext('prune', config, cliDatabaseUrl(config));
  const settings = retentionSettings(config);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const run = await beginRetentionRun(ctx.db, dryRun);
    const plan = cutoffs(settings, run.started_at);
    out(`${dryRun ? 'Would prune' : 'Pruning'} (batches of ${settings.batchSize}):`);
    for (const { log, cutoff } of plan) {
      let n = 0;
      if (dryRun) {
        n = await countPrunable(ctx.db, log, cutoff);
        await setPruned(ctx.db, run.id, log, n);
      } else {
        for (;;) {
          const batch = await pruneBatch(ctx.db, log, cutoff, settings.batchSize, run.id);
          n += batch;
          if (batch < settings.batchSize) break;
          if (settings.batchPauseMs > 0) await sleep(settings.batchPauseMs);
        }
      }
      out(`  ${log.padEnd(18)} ${String(n).padStart(9)} rows older than ${cutoff.toISOString()}`);
    }
    const kept = Object.entries(settings.keepMs).filter(([, ms]) => ms === 0);
    for (const [log] of kept) out(`  ${log.padEnd(18)} kept forever (retention 0)`);
    await finishRetentionRun(ctx.db, run.id);
  } finally {
    await ctx.db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`prune failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
