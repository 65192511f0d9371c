import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context, log } from '@temporalio/activity';
import type { Db } from '../../platform/db/pool';
import {
  beginRetentionRun,
  countPrunable,
  finishRetentionRun,
  pruneBatch,
  setPruned,
  type RetentionLog,
} from '../../retention/db';
import type { Logger } from '../../platform/logger';
import { cutoffs, type RetentionSettings } from '../../retention/settings';
import type { RetentionPlanItem } from '../../retention/workflow-contract';

export interface RetentionActivityDeps {
  db: Db;
  logger: Logger;
  settings: RetentionSettings;
}

// One activity call prunes for about this long, then reports back (keeps heartbeats and history small).
const CHUNK_MS = 20_000;

/** Retention steps: plan the run, prune one log in small batches, close the run. */
export function createRetentionActivities(deps: RetentionActivityDeps) {
  const { db, settings } = deps;

  return {
    /** Records the run (keyed by the workflow run, so a retry reuses it) and fixes each log's cutoff. */
    async beginRetention(dryRun: boolean): Promise<{ runId: string; plan: RetentionPlanItem[] }> {
      const runId = Context.current().info.workflowExecution?.runId ?? randomUUID();
      const run = await beginRetentionRun(db, dryRun, runId);
      const plan = cutoffs(settings, run.started_at).map((c) => ({ log: c.log, cutoff: c.cutoff.toISOString() }));
      return { runId, plan };
    },

    /**
     * Prunes batches of one log (each its own short transaction, with a pause between them so
     * ingress and workers keep the database) for up to ~20 s. `done` once a batch comes back short.
     * A dry run only counts.
     */
    async pruneLog(
      runId: string,
      item: RetentionPlanItem,
      dryRun: boolean,
    ): Promise<{ pruned: number; done: boolean }> {
      const cutoff = new Date(item.cutoff);
      if (dryRun) {
        const n = await countPrunable(db, item.log, cutoff);
        await setPruned(db, runId, item.log, n);
        return { pruned: n, done: true };
      }
      const ctx = Context.current();
      const until = Date.now() + CHUNK_MS;
      let pruned = 0;
      for (;;) {
        const n = await pruneBatch(db, item.log, cutoff, settings.batchSize, runId);
        pruned += n;
        ctx.heartbeat(pruned);
        if (n < settings.batchSize) return { pruned, done: true };
        if (Date.now() > until) return { pruned, done: false };
        if (settings.batchPauseMs > 0) await sleep(settings.batchPauseMs);
      }
    },

    async finishRetention(runId: string): Promise<void> {
      const run = await finishRetentionRun(db, runId);
      log.info('retention run finished', { runId, pruned: run?.pruned ?? {} });
      deps.logger.info({ runId, dryRun: run?.dry_run, pruned: run?.pruned }, 'retention run finished');
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
export type { RetentionLog };
