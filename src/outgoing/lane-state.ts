import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { laneCounts } from './db/deliveries';
import type { Queryable } from '../platform/db/pool';
import { LANE_STATE_QUERY, laneWorkflowId, type LaneState } from './workflow-contract';

/** A lane as the API shows it: the running lane's own state, or PostgreSQL's counts when it is not running. */
export type LaneView =
  | (LaneState & { running: true; source: 'lane' })
  | {
      running: false;
      source: 'database';
      webhookId: string;
      status: 'waiting' | 'idle';
      queued: number;
      inFlight: number;
      held: number;
      batchItemsWaiting: number;
      nextDueAt: string | null;
      counters: null;
    };

// A query needs a worker to answer; without one the API answers from PostgreSQL instead of waiting.
const QUERY_DEADLINE_MS = 3000;

export async function readLaneState(deps: { db: Queryable; temporal: Client }, webhookId: string): Promise<LaneView> {
  const handle = deps.temporal.workflow.getHandle(laneWorkflowId(webhookId));
  try {
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') {
      const state = await deps.temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        handle.query<LaneState>(LANE_STATE_QUERY),
      );
      return { ...state, running: true, source: 'lane' };
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError) && !(err instanceof Error && /deadline|timed? ?out/i.test(err.message)))
      throw err;
  }
  const c = await laneCounts(deps.db, webhookId);
  const waiting = c.queued + c.inFlight + c.batchItemsWaiting > 0;
  return {
    running: false,
    source: 'database',
    webhookId,
    status: waiting ? 'waiting' : 'idle',
    queued: c.queued,
    inFlight: c.inFlight,
    held: c.held,
    batchItemsWaiting: c.batchItemsWaiting,
    nextDueAt: c.nextRetryAt?.toISOString() ?? null,
    counters: null,
  };
}
