/**
 * What the capabilities' typed starters (src/<capability>/*-starter.ts) share when they start
 * workflows and keep schedules. Lint lets only those starters import this module.
 */
import {
  ScheduleAlreadyRunning,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleUpdateOptions,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';

/** Starts a workflow; one already started under its id (as the id policies decide) answers 'running'. */
export async function startWorkflowOnce<T extends Workflow>(
  temporal: Client,
  workflowType: string,
  options: WorkflowStartOptions<T>,
): Promise<'started' | 'running'> {
  try {
    await temporal.workflow.start<T>(workflowType, options);
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running';
    throw err;
  }
}

/**
 * Creates a schedule, or brings an existing one's spec and action up to date (and its state, when
 * `state` says how), keeping whatever else it has.
 */
export async function upsertSchedule(
  temporal: Client,
  options: ScheduleOptions,
  state?: (previous: ScheduleDescription['state']) => ScheduleUpdateOptions['state'],
): Promise<'created' | 'updated'> {
  try {
    await temporal.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await temporal.schedule.getHandle(options.scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: { ...previous.action, ...options.action },
      ...(state ? { state: state(previous.state) } : {}),
    }));
    return 'updated';
  }
}
