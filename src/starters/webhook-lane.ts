import type { Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { webhooksWithQueuedWork } from '../db/deliveries';
import type { Queryable } from '../db/pool';
import { SA } from '../shared/search-attributes';
import { LANE_WAKE_SIGNAL, laneWorkflowId, type WebhookLaneInput } from '../shared/workflow-types';
import { webhookLane } from '../workflows';
import type { NewIntakeJob } from '../db/intake-jobs';
import { jobFor, type JobFamily } from './family';

export interface LaneStarterDeps {
  temporal: Client;
  taskQueue: string;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

// Wakes in flight per client and webhook. A burst of events for one webhook costs one signal in
// flight plus one after it, not one per event: a caller that arrives while a signal is on its way
// waits for the next one, which leaves after its rows were committed (the one on its way may not have).
const pending = new WeakMap<Client, Map<string, Waiter[]>>();

async function signalLane(deps: LaneStarterDeps, webhookId: string): Promise<void> {
  const input: WebhookLaneInput = { webhookId };
  await deps.temporal.workflow.signalWithStart(webhookLane, {
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

async function pump(deps: LaneStarterDeps, lanes: Map<string, Waiter[]>, webhookId: string): Promise<void> {
  for (;;) {
    const waiters = lanes.get(webhookId)!;
    if (waiters.length === 0) {
      lanes.delete(webhookId);
      return;
    }
    lanes.set(webhookId, []);
    try {
      await signalLane(deps, webhookId);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }
}

function wakeOne(deps: LaneStarterDeps, webhookId: string): Promise<void> {
  let lanes = pending.get(deps.temporal);
  if (!lanes) pending.set(deps.temporal, (lanes = new Map()));
  return new Promise<void>((resolve, reject) => {
    const queued = lanes.get(webhookId);
    if (queued) {
      queued.push({ resolve, reject });
      return;
    }
    lanes.set(webhookId, [{ resolve, reject }]);
    void pump(deps, lanes, webhookId);
  });
}

/**
 * Tells each webhook's lane (`webhook:<id>`) that there is more to do, starting it when it is
 * not running. Call it after the rows it should see are committed. The one place lanes are
 * started or signalled.
 */
export async function wakeLanes(deps: LaneStarterDeps, webhookIds: string[]): Promise<void> {
  await Promise.all([...new Set(webhookIds)].map((id) => wakeOne(deps, id)));
}

/**
 * Wakes every lane that has queued work: run at start-up, it recovers a wake lost between a
 * commit and its signal (a process that died in between) and deliveries left by an upgrade.
 */
export async function wakeLanesWithQueuedWork(deps: LaneStarterDeps & { db: Queryable }): Promise<number> {
  const ids = await webhooksWithQueuedWork(deps.db);
  for (let i = 0; i < ids.length; i += 50) await wakeLanes(deps, ids.slice(i, i + 50));
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
    if (first) await signalLane(deps, first.webhookId);
  },
};

/** Outbox rows waking these webhooks' lanes, one per webhook. */
export const laneWakeJobs = (webhookIds: string[]): NewIntakeJob[] =>
  [...new Set(webhookIds)].map((webhookId) => jobFor(webhookLaneFamily, laneWorkflowId(webhookId), { webhookId }));
