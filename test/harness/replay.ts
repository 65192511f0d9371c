import { Worker } from '@temporalio/worker';
import { harness } from './stack';

/**
 * Replays workflow histories against the workflow bundle this run built (the current code); the
 * ones that no longer replay, as `workflowId: error`. Empty when every history is deterministic.
 */
export async function replayFailures(histories: Array<{ workflowId: string; history: unknown }>): Promise<string[]> {
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories(
    { workflowBundle: { codePath: harness().workflowBundlePath } },
    histories,
  )) {
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  }
  return failures;
}
