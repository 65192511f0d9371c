import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createProviderBatchActivities } from '../../activities/incoming/provider-batch';
import {
  INBOUND_BATCH_SIGNAL,
  type BatchItem,
  type ChunkItemResult,
  type InboundBatchInput,
  type InboundBatchSignal,
} from '../../incoming/workflow-contract';

type BatchActivities = ReturnType<typeof createProviderBatchActivities>;

export const inboundBatchSignal = defineSignal<[InboundBatchSignal]>(INBOUND_BATCH_SIGNAL);

interface Pending extends BatchItem {
  /** Workflow time from which the item may be processed. */
  readyAt: number;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping results in order. */
async function runLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * The delayed processing method for one integration and tenant/realm. Ingress signals webhook
 * ids in; the first one opens a batch window (`waitSeconds`) for others to join, then the batch
 * is planned into provider-sized chunks (≤ 50 Xero ids, ≤ 30 QuickBooks ids per call) that run
 * at most `concurrency` at a time under the tenant's shared rate budget. A failed webhook is
 * queued again with backoff until its attempts are spent. The workflow completes after
 * `idleSeconds` with nothing to do and continues-as-new when its history grows.
 */
export async function inboundBatch(input: InboundBatchInput): Promise<{ processed: number }> {
  const { planInboundBatch, processResourceChunk } = proxyActivities<BatchActivities>({
    startToCloseTimeout: `${input.activityTimeoutSeconds}s`,
    // Infrastructure trouble is retried indefinitely; a provider's 429 comes back as
    // ProviderRateLimitedError with `nextRetryDelay` = Retry-After, which overrides this backoff.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });

  const pending = new Map<string, Pending>();
  const inFlight = new Set<string>();
  const add = (item: BatchItem) => {
    const existing = pending.get(item.webhookId);
    // A manual (fresh) retry replaces an automatic entry; a duplicate signal changes nothing.
    if (existing && !item.fresh) return;
    pending.set(item.webhookId, { ...item, readyAt: item.notBefore ?? Date.now() });
  };
  for (const item of input.pending ?? []) add(item);
  setHandler(inboundBatchSignal, ({ items }) => items.forEach(add));

  const waitMs = input.waitSeconds * 1000;
  const readyNow = () => [...pending.values()].filter((p) => p.readyAt <= Date.now() && !inFlight.has(p.webhookId));
  let processed = 0;
  let flushes = 0;

  for (;;) {
    if (pending.size === 0) {
      const gotWork = await condition(() => pending.size > 0, `${input.idleSeconds}s`);
      if (!gotWork) break;
    }
    const earliest = Math.min(...[...pending.values()].map((p) => p.readyAt));
    const flushAt = earliest + waitMs;
    if (Date.now() < flushAt && readyNow().length < input.maxItems) {
      // The batch window: flush when it closes, or as soon as a full batch is waiting.
      await condition(() => readyNow().length >= input.maxItems, flushAt - Date.now());
      continue;
    }
    const batch = readyNow()
      .sort((a, b) => a.readyAt - b.readyAt)
      .slice(0, input.maxItems);
    if (batch.length === 0) {
      // Nothing is due yet after all (cannot normally happen): do not spin.
      await condition(() => false, '1s');
      continue;
    }
    for (const item of batch) {
      pending.delete(item.webhookId);
      inFlight.add(item.webhookId);
    }

    const items: BatchItem[] = batch.map(({ readyAt: _readyAt, notBefore: _notBefore, ...item }) => item);
    const { chunks } = await planInboundBatch({ integrationId: input.integrationId, tenantId: input.tenantId, items });
    const results: ChunkItemResult[] = (
      await runLimited(chunks, input.concurrency, (chunk) =>
        processResourceChunk({ integrationId: input.integrationId, tenantId: input.tenantId, chunk }),
      )
    ).flat();

    const byId = new Map(items.map((i) => [i.webhookId, i]));
    for (const r of results) {
      const item = byId.get(r.webhookId);
      if (r.final || !item) {
        processed++;
        continue;
      }
      const backoffMs = input.retryInitialSeconds * 1000 * 2 ** (item.attempt - 1);
      add({ ...item, attempt: item.attempt + 1, notBefore: Date.now() + backoffMs });
    }
    for (const item of batch) inFlight.delete(item.webhookId);
    flushes++;
    log.info('inbound batch flushed', { items: items.length, chunks: chunks.length, pending: pending.size });

    if (workflowInfo().continueAsNewSuggested || flushes >= input.maxFlushesPerRun) {
      await condition(allHandlersFinished);
      const carried: BatchItem[] = [...pending.values()].map(({ readyAt, ...item }) => ({
        ...item,
        notBefore: readyAt,
      }));
      return continueAsNew<typeof inboundBatch>({ ...input, pending: carried });
    }
  }
  await condition(allHandlersFinished);
  return { processed };
}
