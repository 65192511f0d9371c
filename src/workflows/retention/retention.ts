import { proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities } from '../../activities/retention';
import type { PrunedCounts } from '../../retention/db';
import type { RetentionInput, RetentionResult } from '../../retention/workflow-contract';

const { beginRetention, pruneLog, finishRetention } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 10 },
});

/**
 * `retention:<taskQueue>` (from its Schedule, daily) — prunes every log past its retention, one
 * log at a time, in chunks of small batches; returns the rows pruned per log.
 */
export async function retentionWorkflow(input: RetentionInput = { dryRun: false }): Promise<RetentionResult> {
  const { runId, plan } = await beginRetention(input.dryRun);
  const pruned: PrunedCounts = {};
  for (const item of plan) {
    let total = 0;
    for (;;) {
      const chunk = await pruneLog(runId, item, input.dryRun);
      total += chunk.pruned;
      if (chunk.done) break;
    }
    pruned[item.log] = total;
  }
  await finishRetention(runId);
  return { runId, dryRun: input.dryRun, plan, pruned };
}
