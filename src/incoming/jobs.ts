import type { Config } from '../platform/config';
import type { NewIntakeJob } from '../platform/intake/jobs';
import type { IntegrationRow } from './db/integrations';
import type { IncomingWebhookRow } from './db/incoming-webhooks';
import { resolveProvider } from './providers';
import { inboundBatchWorkflowId, type BatchItem } from './workflow-contract';
import { jobFor } from '../platform/intake/family';
import { inboundBatchFamily } from './batch-starter';
import { inboundWebhookFamily } from './webhook-starter';

/** Settings for the processing workflows intake starts, read once from the configuration. */
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

type WebhookRef = Pick<IncomingWebhookRow, 'id' | 'workflow_id' | 'event_type' | 'entity_id' | 'attempts_allowed'>;

/**
 * The start of one webhook's processing workflow. A manual retry passes its attempt (and runs
 * under its own workflow id, already on the row); `fresh` downloads the resource again.
 */
export function inboundStartJob(
  settings: InboundProcessingSettings,
  integration: Pick<IntegrationRow, 'id' | 'provider'>,
  row: WebhookRef,
  run: { maxAttempts: number; firstAttempt?: number; fresh?: boolean } = { maxAttempts: row.attempts_allowed },
): NewIntakeJob {
  return jobFor(inboundWebhookFamily, row.workflow_id, {
    input: {
      incomingWebhookId: row.id,
      maxAttempts: run.maxAttempts,
      activityTimeoutSeconds: settings.activityTimeoutSeconds,
      retryInitialSeconds: settings.retryInitialSeconds,
      ...(run.firstAttempt ? { firstAttempt: run.firstAttempt } : {}),
      ...(run.fresh ? { fresh: true } : {}),
    },
    search: {
      provider: integration.provider,
      integrationId: integration.id,
      eventType: row.event_type,
      entityId: row.entity_id,
    },
  });
}

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
