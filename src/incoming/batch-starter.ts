import { SA, searchAttributes } from '../platform/temporal/search-attributes';
import {
  inboundBatchWorkflowId,
  INBOUND_BATCH_SIGNAL,
  INBOUND_BATCH_WORKFLOW,
  type BatchItem,
  type InboundBatchInput,
  type InboundBatchSignal,
  type InboundBatchWorkflow,
} from './workflow-contract';
import { jobFor, type JobFamily, type StarterDeps } from '../platform/intake/family';
import type { NewIntakeJob } from '../platform/intake/jobs';
import type { IntegrationRow } from './db/integrations';
import type { InboundProcessingSettings } from './processing-methods';
import { resolveProvider } from './providers';

export interface InboundBatchAdd {
  input: InboundBatchInput;
  provider: string;
  items: BatchItem[];
}

// ~100 bytes per item keeps one signal far below Temporal's 2 MB payload limit.
const MAX_ITEMS_PER_SIGNAL = 2000;

/**
 * Adds webhooks to an integration+tenant batch workflow, starting it when none runs. Every job
 * queued for one batch goes out in as few signals as fit; the workflow ignores an item it
 * already holds, so a repeated signal changes nothing.
 */
export async function signalInboundBatch(deps: StarterDeps, workflowId: string, adds: InboundBatchAdd[]) {
  const first = adds[0];
  if (!first) return;
  const items = adds.flatMap((a) => a.items);
  for (let i = 0; i < items.length; i += MAX_ITEMS_PER_SIGNAL) {
    await deps.temporal.workflow.signalWithStart<InboundBatchWorkflow, [InboundBatchSignal]>(INBOUND_BATCH_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [first.input],
      signal: INBOUND_BATCH_SIGNAL,
      signalArgs: [{ items: items.slice(i, i + MAX_ITEMS_PER_SIGNAL) }],
      typedSearchAttributes: searchAttributes([
        [SA.integration, first.provider],
        [SA.integrationId, first.input.integrationId],
      ]),
    });
  }
}

export const inboundBatchFamily: JobFamily<InboundBatchAdd> = {
  kind: 'inbound.batch',
  run: signalInboundBatch,
};

/** Webhooks handed to an integration+tenant batch workflow (the delayed method). */
export function inboundBatchJob(
  settings: InboundProcessingSettings,
  integration: IntegrationRow,
  tenantId: string,
  items: BatchItem[],
): NewIntakeJob {
  const provider = resolveProvider(integration).settings;
  return jobFor(inboundBatchFamily, inboundBatchWorkflowId(integration.id, tenantId), {
    provider: integration.provider,
    items,
    input: {
      integrationId: integration.id,
      tenantId,
      waitSeconds: provider.batchWaitSeconds ?? settings.batchWaitSeconds,
      maxItems: settings.batchMaxItems,
      concurrency: provider.rateLimits.concurrent,
      retryInitialSeconds: settings.retryInitialSeconds,
      activityTimeoutSeconds: settings.activityTimeoutSeconds,
      idleSeconds: settings.batchIdleSeconds,
      maxFlushesPerRun: settings.batchMaxFlushesPerRun,
    },
  });
}
