import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { RETENTION_WORKFLOW, retentionIds, type RetentionInput } from './workflow-contract';

export interface RetentionScheduleDeps {
  temporal: Client;
  taskQueue: string;
  /** How often to prune; 0 removes the schedule (nothing is pruned automatically). */
  intervalMs: number;
}

/**
 * Creates (or brings up to date) the Temporal Schedule that runs the `retention` workflow.
 * Called at every API start-up, so a changed RETENTION_INTERVAL takes effect on restart.
 */
export async function ensureRetentionSchedule(deps: RetentionScheduleDeps): Promise<'created' | 'updated' | 'removed'> {
  const scheduleId = retentionIds.schedule(deps.taskQueue);
  if (deps.intervalMs <= 0) {
    try {
      await deps.temporal.schedule.getHandle(scheduleId).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    return 'removed';
  }
  const input: RetentionInput = { dryRun: false };
  const options = {
    scheduleId,
    spec: { intervals: [{ every: deps.intervalMs }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: RETENTION_WORKFLOW,
      workflowId: scheduleId,
      taskQueue: deps.taskQueue,
      args: [input] as [RetentionInput],
    },
    // A run still pruning when the next is due has the job in hand.
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { note: 'prunes logs past their retention (RETENTION_* settings)' },
  };
  try {
    await deps.temporal.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await deps.temporal.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: { ...previous.action, ...options.action },
    }));
    return 'updated';
  }
}
