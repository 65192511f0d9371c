import { WorkflowIdReusePolicy } from '@temporalio/common';
import { webhooksWithQueuedWork } from './db/deliveries';
import { isLanePolling } from './db/lane-rounds';
import type { Queryable } from '../platform/db/pool';
import { SA } from '../platform/temporal/search-attributes';
import {
  LANE_WAKE_SIGNAL,
  laneWorkflowId,
  WEBHOOK_LANE_WORKFLOW,
  type WebhookLaneInput,
  type WebhookLaneWorkflow,
} from './workflow-contract';
import { insertIntakeJobs, type NewIntakeJob } from '../platform/intake/jobs';
import { jobFor, type JobFamily, type StarterDeps } from '../platform/intake/family';

async function signalLane(deps: StarterDeps, webhookId: string): Promise<void> {
  const input: WebhookLaneInput = { webhookId };
  await deps.temporal.workflow.signalWithStart<WebhookLaneWorkflow, []>(WEBHOOK_LANE_WORKFLOW, {
    taskQueue: deps.taskQueue,
    workflowId: laneWorkflowId(webhookId),
    args: [input],
    signal: LANE_WAKE_SIGNAL,
    signalArgs: [],
    // A lane that ended (idle) starts again under the same id; a running one is only signalled.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: [{ key: SA.webhookId, value: webhookId }],
  });
}

/**
 * Wakes every lane that has queued work, through the outbox: run at start-up, it recovers
 * deliveries left by an upgrade. The intake starter signals them.
 */
export async function wakeLanesWithQueuedWork(db: Queryable): Promise<number> {
  const ids = await webhooksWithQueuedWork(db);
  await insertIntakeJobs(db, laneWakeJobs(ids));
  return ids.length;
}

/**
 * Lanes woken through intake: "there is more" for each webhook, committed with the rows it is
 * about. The starter merges every wake for one lane into one signal, and a repeated wake is
 * harmless: the lane looks in PostgreSQL for what to do.
 */
export const webhookLaneFamily: JobFamily<{ webhookId: string }> = {
  kind: 'lane.wake',
  run: async (deps, _workflowId, [first]) => {
    if (!first) return;
    // A lane in a round polls PostgreSQL and finds the work itself: a signal would only cost
    // a workflow task (see src/outgoing/db/lane-rounds.ts for why skipping it loses nothing).
    if (await isLanePolling(deps.db, first.webhookId)) return;
    await signalLane(deps, first.webhookId);
  },
};

/** Outbox rows waking these webhooks' lanes, one per webhook. */
export const laneWakeJobs = (webhookIds: string[]): NewIntakeJob[] =>
  [...new Set(webhookIds)].map((webhookId) => jobFor(webhookLaneFamily, laneWorkflowId(webhookId), { webhookId }));
