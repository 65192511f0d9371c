import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { Config } from '../config';
import type { IntegrationRow } from '../db/integrations';
import type { ProviderWebhookRow } from '../db/provider-webhooks';
import { resolveProvider } from '../integrations/providers';
import {
  INBOUND_BATCH_SIGNAL,
  inboundBatchWorkflowId,
  type BatchItem,
  type InboundBatchInput,
  type InboundBatchSignal,
} from '../shared/inbound-batch';
import { SA } from '../shared/search-attributes';
import type { InboundWebhookInput } from '../shared/workflow-types';

/** Settings for the processing workflows the API starts, read once from the configuration. */
export interface InboundProcessingSettings {
  activityTimeoutSeconds: number;
  retryInitialSeconds: number;
  batchWaitSeconds: number;
  batchMaxItems: number;
  batchIdleSeconds: number;
  batchMaxFlushesPerRun: number;
}

export function inboundProcessingSettings(config: Config): InboundProcessingSettings {
  return {
    activityTimeoutSeconds: config.INBOUND_ACTIVITY_TIMEOUT_SECONDS,
    retryInitialSeconds: config.INBOUND_RETRY_INITIAL_SECONDS,
    batchWaitSeconds: config.INBOUND_BATCH_WAIT_SECONDS,
    batchMaxItems: config.INBOUND_BATCH_MAX_ITEMS,
    batchIdleSeconds: config.INBOUND_BATCH_IDLE_SECONDS,
    batchMaxFlushesPerRun: config.INBOUND_BATCH_MAX_FLUSHES_PER_RUN,
  };
}

export interface InboundStartDeps {
  temporal: Client;
  taskQueue: string;
  processing: InboundProcessingSettings;
}

const attrs = (pairs: Array<[SearchAttributePair['key'], string | null | undefined]>): SearchAttributePair[] =>
  pairs.filter(([, v]) => v).map(([key, value]) => ({ key, value }) as SearchAttributePair);

/**
 * Starts the per-webhook processing workflow. `first` is idempotent (a run that exists or
 * existed is left alone, which also repairs a request that stored the row but died before
 * starting); a manual retry passes its own new workflow id.
 */
export async function startWebhookWorkflow(
  deps: InboundStartDeps,
  integration: IntegrationRow,
  row: ProviderWebhookRow,
  run: { maxAttempts: number; firstAttempt?: number; fresh?: boolean },
): Promise<void> {
  const input: InboundWebhookInput = {
    incomingWebhookId: row.id,
    maxAttempts: run.maxAttempts,
    activityTimeoutSeconds: deps.processing.activityTimeoutSeconds,
    retryInitialSeconds: deps.processing.retryInitialSeconds,
    ...(run.firstAttempt ? { firstAttempt: run.firstAttempt } : {}),
    ...(run.fresh ? { fresh: true } : {}),
  };
  try {
    await deps.temporal.workflow.start('inboundWebhook', {
      taskQueue: deps.taskQueue,
      workflowId: row.workflow_id,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: attrs([
        [SA.integration, integration.provider],
        [SA.integrationId, integration.id],
        [SA.eventType, row.event_type],
        [SA.entityId, row.entity_id],
      ]),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

// Largest signal: ~100 bytes per item keeps it far below Temporal's 2 MB payload limit.
const MAX_ITEMS_PER_SIGNAL = 2000;

interface Waiting {
  items: BatchItem[];
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}
const signalQueues = new Map<string, { next: Waiting | undefined }>();

/**
 * Group commit for signals to one batch workflow: while a signal is in flight, items from
 * other requests gather and go out together in the next one. Every caller still waits until
 * its own items are signalled (so a 2xx always means the work is in Temporal), but a burst of
 * requests for one tenant costs a handful of signals instead of one each.
 */
function groupSignal(key: string, items: BatchItem[], send: (items: BatchItem[]) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let queue = signalQueues.get(key);
    const idle = !queue;
    if (!queue) {
      queue = { next: undefined };
      signalQueues.set(key, queue);
    }
    queue.next ??= { items: [], waiters: [] };
    queue.next.items.push(...items);
    queue.next.waiters.push({ resolve, reject });
    if (idle) void drain(key, queue, send);
  });
}

async function drain(key: string, queue: { next: Waiting | undefined }, send: (items: BatchItem[]) => Promise<void>) {
  while (queue.next) {
    const batch = queue.next;
    queue.next = undefined;
    try {
      for (let i = 0; i < batch.items.length; i += MAX_ITEMS_PER_SIGNAL) await send(batch.items.slice(i, i + MAX_ITEMS_PER_SIGNAL));
      batch.waiters.forEach((w) => w.resolve());
    } catch (err) {
      batch.waiters.forEach((w) => w.reject(err));
    }
  }
  signalQueues.delete(key);
}

/** Adds webhooks to the integration+tenant batch workflow, starting it when none is running. */
export async function signalBatchWorkflow(
  deps: InboundStartDeps,
  integration: IntegrationRow,
  tenantId: string,
  items: BatchItem[],
): Promise<string> {
  const { settings } = resolveProvider(integration);
  const workflowId = inboundBatchWorkflowId(integration.id, tenantId);
  const input: InboundBatchInput = {
    integrationId: integration.id,
    tenantId,
    waitSeconds: settings.batchWaitSeconds ?? deps.processing.batchWaitSeconds,
    maxItems: deps.processing.batchMaxItems,
    concurrency: settings.rateLimits.concurrent,
    retryInitialSeconds: deps.processing.retryInitialSeconds,
    activityTimeoutSeconds: deps.processing.activityTimeoutSeconds,
    idleSeconds: deps.processing.batchIdleSeconds,
    maxFlushesPerRun: deps.processing.batchMaxFlushesPerRun,
  };
  await groupSignal(workflowId, items, async (group) => {
    const signal: InboundBatchSignal = { items: group };
    await deps.temporal.workflow.signalWithStart('inboundBatch', {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      signal: INBOUND_BATCH_SIGNAL,
      signalArgs: [signal],
      typedSearchAttributes: attrs([
        [SA.integration, integration.provider],
        [SA.integrationId, integration.id],
      ]),
    });
  });
  return workflowId;
}
