import {
  allHandlersFinished,
  condition,
  defineSignal,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBatchActivities } from '../activities/outgoing-batch';
import { BATCH_SIGNAL, type BatchSignal, type WebhookBatchInput } from '../shared/workflow-types';

type BatchActivities = ReturnType<typeof createBatchActivities>;

export const addToBatchSignal = defineSignal<[BatchSignal]>(BATCH_SIGNAL);

const { flushBatch } = proxyActivities<BatchActivities>({
  startToCloseTimeout: '1m',
  // A flush is idempotent by its delivery id; keep trying until the database is back.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * Accumulates one webhook group's events (`batch:<webhookId>:<groupKey>`) and flushes them as
 * one delivery when the batch wait elapses — a durable timer, exact at any length — or when
 * the batch is full. The events themselves wait in PostgreSQL; signals only say "there is
 * more", so nothing is lost to a worker restart and nothing is sent twice.
 */
export async function webhookBatch(input: WebhookBatchInput): Promise<void> {
  let { waitSeconds, maxItems } = input;
  const pending = new Set<string>(input.pending ?? []);
  let arrivedDuringFlush: Set<string> | undefined;
  setHandler(addToBatchSignal, ({ eventId }) => {
    pending.add(eventId);
    arrivedDuringFlush?.add(eventId);
  });

  for (let flushes = 0; ;) {
    if (pending.size === 0 && !(await condition(() => pending.size > 0, `${input.idleSeconds}s`))) {
      // Idle: finish. A signal racing this completion fails it on the server and is handled first.
      return;
    }
    // The window opens with its first item and closes on the timer or when the batch is full.
    await condition(() => pending.size >= maxItems, `${waitSeconds}s`);

    arrivedDuringFlush = new Set();
    const result = await flushBatch({
      webhookId: input.webhookId,
      groupKey: input.groupKey,
      deliveryId: uuid4(),
      maxItems,
    });
    const next = new Set([...result.unclaimed, ...arrivedDuringFlush]);
    for (const id of result.claimed) next.delete(id);
    arrivedDuringFlush = undefined;
    pending.clear();
    for (const id of next) pending.add(id);
    flushes++;

    if (!result.batching) {
      if (pending.size === 0) return;
    } else {
      ({ waitSeconds, maxItems } = result.batching);
    }
    if (workflowInfo().continueAsNewSuggested || flushes >= input.maxFlushesPerRun) {
      await condition(allHandlersFinished);
      // Search attributes are passed on explicitly so every run of the chain stays filterable.
      const continueWith = makeContinueAsNewFunc<typeof webhookBatch>({
        typedSearchAttributes: workflowInfo().typedSearchAttributes,
      });
      await continueWith({ ...input, waitSeconds, maxItems, pending: [...pending] });
    }
  }
}
