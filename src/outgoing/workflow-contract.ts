/**
 * The lane workflow's contract: ids, signal and query names, inputs and results shared by the
 * outgoing capability (which starts and signals lanes) and the workflow (which runs them).
 * Workflow code loads this module, so it imports nothing but types.
 */

// Outgoing webhooks. Bodies and queues stay in PostgreSQL; the lane workflow only hears "there is more".

/** The one long-running workflow per webhook that sends its deliveries. */
export const laneWorkflowId = (webhookId: string) => `webhook:${webhookId}`;

export const LANE_WAKE_SIGNAL = 'wake';
export const LANE_STATE_QUERY = 'state';

/** What a lane has done since it first started (carried across continue-as-new). */
export interface LaneCounters {
  attempts: number;
  succeeded: number;
  retried: number;
  failed: number;
  /** Attempts that re-sent a message after its answer was lost (a worker died mid-request). */
  resentAfterLostResponse: number;
  batches: number;
  /** `runLane` calls. */
  rounds: number;
}

/** What one `runLane` call counts, all zero. */
export const emptyRoundCounters = (): Omit<LaneCounters, 'rounds'> => ({
  attempts: 0,
  succeeded: 0,
  retried: 0,
  failed: 0,
  resentAfterLostResponse: 0,
  batches: 0,
});

export const emptyLaneCounters = (): LaneCounters => ({ ...emptyRoundCounters(), rounds: 0 });

export interface WebhookLaneInput {
  webhookId: string;
  /** Carried over a continue-as-new. */
  counters?: LaneCounters;
  runStartedAt?: string;
}

/** What one `runLane` call is given. */
export interface LaneRoundInput {
  webhookId: string;
  /** Under a rate limit: the earliest next request start (epoch ms) the previous round left. */
  rateNextAt?: number;
}

/** What one `runLane` call reports. */
export interface LaneRoundResult {
  /** False once the webhook is deleted: the lane ends. */
  exists: boolean;
  counters: Omit<LaneCounters, 'rounds'>;
  /** Epoch ms of the earliest retry, expiring claim or batch window; null when nothing waits. */
  nextDueAt: number | null;
  /** True when due work remained as the round ended (the lane goes again at once). */
  moreDue: boolean;
  queued: number;
  inFlight: number;
  held: number;
  batchItemsWaiting: number;
  enabled: boolean;
  /** The worker's lane settings, so that they reach the workflow deterministically. */
  idleMs: number;
  maxRoundsPerRun: number;
  /** Carried to the next round, which may run on another worker. */
  rateNextAt: number;
}

/** The lane's `state` query answer, also shown as the workflow's current details. */
export interface LaneState {
  webhookId: string;
  status: 'sending' | 'waiting' | 'idle';
  queued: number;
  inFlight: number;
  held: number;
  batchItemsWaiting: number;
  enabled: boolean;
  /** ISO time of the earliest retry or batch flush the lane's timer waits for. */
  nextDueAt: string | null;
  counters: LaneCounters;
  runStartedAt: string;
}

/** The lane workflow as registered with the worker (src/workflows/outgoing/webhook-lane.ts). */
export const WEBHOOK_LANE_WORKFLOW = 'webhookLane';
export type WebhookLaneWorkflow = (input: WebhookLaneInput) => Promise<void>;
