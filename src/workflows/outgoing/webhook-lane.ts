import {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  makeContinueAsNewFunc,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { OutgoingActivities } from '../../activities/outgoing';
import {
  emptyLaneCounters,
  LANE_STATE_QUERY,
  LANE_WAKE_SIGNAL,
  type LaneCounters,
  type LaneState,
  type WebhookLaneInput,
} from '../../outgoing/workflow-contract';

export const laneWakeSignal = defineSignal(LANE_WAKE_SIGNAL);
export const laneStateQuery = defineQuery<LaneState>(LANE_STATE_QUERY);

const { runLane } = proxyActivities<OutgoingActivities>({
  // A round sends for at most 30 s, then waits for its last requests (HTTP timeout at most 2 min).
  startToCloseTimeout: '10m',
  // A lost worker is noticed by its silence; its claims expire and the retried round takes them over.
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

function describe(s: LaneState): string {
  const next = s.nextDueAt ? ` · next due ${s.nextDueAt}` : '';
  const c = s.counters;
  return [
    `**${s.status}**${s.enabled ? '' : ' (webhook disabled)'} — queued ${s.queued} · in flight ${s.inFlight} · held ${s.held} · batch items waiting ${s.batchItemsWaiting}${next}`,
    `attempts ${c.attempts} · succeeded ${c.succeeded} · retried ${c.retried} · failed ${c.failed} · re-sent after a lost answer ${c.resentAfterLostResponse} · batches ${c.batches} · rounds ${c.rounds}`,
  ].join('\n\n');
}

/**
 * A webhook's delivery lane (`webhook:<webhookId>`), the one actor sending to that endpoint.
 * The queue lives in PostgreSQL; a `wake` signal only says "there is more". Each round (an
 * activity) sends what is due within the webhook's limits; between rounds the lane sleeps on
 * one durable timer — the earliest retry or batch window — or until woken. An idle lane ends;
 * the next event starts it again.
 */
export async function webhookLane(input: WebhookLaneInput): Promise<void> {
  const counters: LaneCounters = { ...emptyLaneCounters(), ...input.counters };
  let woken = false;
  let state: LaneState = {
    webhookId: input.webhookId,
    status: 'sending',
    queued: 0,
    inFlight: 0,
    held: 0,
    batchItemsWaiting: 0,
    enabled: true,
    nextDueAt: null,
    counters,
    runStartedAt: new Date(workflowInfo().runStartTime).toISOString(),
  };
  setHandler(laneWakeSignal, () => {
    woken = true;
  });
  setHandler(laneStateQuery, () => state);
  setCurrentDetails(describe(state));
  let rateNextAt = 0;

  for (let rounds = 0; ;) {
    woken = false;
    state = { ...state, status: 'sending' };
    const r = await runLane({ webhookId: input.webhookId, rateNextAt });
    rateNextAt = r.rateNextAt;
    rounds++;
    counters.rounds++;
    for (const k of Object.keys(r.counters) as Array<keyof typeof r.counters>) counters[k] += r.counters[k];
    if (!r.exists) {
      setCurrentDetails('The webhook was deleted; this lane has ended.');
      return;
    }
    state = {
      ...state,
      status: r.nextDueAt === null ? 'idle' : 'waiting',
      queued: r.queued,
      inFlight: r.inFlight,
      held: r.held,
      batchItemsWaiting: r.batchItemsWaiting,
      enabled: r.enabled,
      nextDueAt: r.nextDueAt === null ? null : new Date(r.nextDueAt).toISOString(),
      counters: { ...counters },
    };
    setCurrentDetails(describe(state));

    if (workflowInfo().continueAsNewSuggested || rounds >= r.maxRoundsPerRun) {
      await condition(allHandlersFinished);
      // Search attributes are passed on explicitly so every run of the chain stays filterable.
      const continueWith = makeContinueAsNewFunc<typeof webhookLane>({
        typedSearchAttributes: workflowInfo().typedSearchAttributes,
      });
      // The next run starts with a round, so a wake that arrived meanwhile is not lost.
      await continueWith({ webhookId: input.webhookId, counters });
    }
    if (woken || r.moreDue) continue;
    if (r.nextDueAt !== null) {
      await condition(() => woken, Math.max(1, r.nextDueAt - Date.now()));
      continue;
    }
    // Nothing queued, retrying or batching: end when no event comes for a while. A wake racing
    // the completion fails it on the server and is handled first.
    if (!(await condition(() => woken, r.idleMs))) return;
  }
}
