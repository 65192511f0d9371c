/**
 * The incoming workflows' contract: ids, inputs, results and signal names shared by the incoming
 * capability (which starts and signals them) and the workflows (which run them). Workflow code
 * loads this module, so it imports nothing but types.
 */

// One webhook processed now or retried (the immediate and retried processing methods).
export interface InboundWebhookInput {
  incomingWebhookId: string;
  /** Total attempts the processing method allows (1 = not retried). */
  maxAttempts: number;
  activityTimeoutSeconds: number;
  retryInitialSeconds: number;
  /** A manual retry starts at the next attempt number (and `maxAttempts` is that same number). */
  firstAttempt?: number;
  /** Download fresh resource data even if the entity looks up to date (manual retries). */
  fresh?: boolean;
}

export interface InboundWebhookResult {
  status: 'succeeded' | 'failed';
  attempts: number;
}

export const workflowIds = {
  inbound: (integrationId: string, deliveryKey: string) => `inbound:${integrationId}:${deliveryKey}`,
};

// The delayed processing method: the batch workflow per tenant.

/** One webhook waiting in a batch. `attempt` is the business attempt it is due for. */
export interface BatchItem {
  webhookId: string;
  attempt: number;
  /** The last attempt this run may make (3 for automatic processing; the attempt itself for a manual retry). */
  maxAttempts: number;
  /** Skip the "already processed from newer data" shortcut and download fresh data (manual retries). */
  fresh?: boolean;
  /** Workflow time (ms) before which the item must not be processed: a retry's backoff. */
  notBefore?: number;
}

export interface InboundBatchInput {
  integrationId: string;
  tenantId: string;
  /** How long the first webhook of a batch waits for others to join it. */
  waitSeconds: number;
  /** Webhooks taken into one flush. */
  maxItems: number;
  /** Parallel resource fetches (the provider's per-tenant concurrency). */
  concurrency: number;
  /** Base of the exponential backoff between automatic attempts. */
  retryInitialSeconds: number;
  activityTimeoutSeconds: number;
  /** An empty batch workflow completes after this long. */
  idleSeconds: number;
  maxFlushesPerRun: number;
  /** Items carried over a continue-as-new. */
  pending?: BatchItem[];
}

export const INBOUND_BATCH_SIGNAL = 'inboundBatchAdd';
export interface InboundBatchSignal {
  items: BatchItem[];
}

/** One provider call's worth of webhooks: one entity type, at most the provider's ids per call. */
export interface ResourceChunk {
  entityType: string;
  items: BatchItem[];
  /** True when no download is expected (likely stale, or deletions). */
  noFetch: boolean;
}

export interface ChunkItemResult {
  webhookId: string;
  status: 'succeeded' | 'stale' | 'failed';
  /** False when the item has automatic attempts left and should be queued again. */
  final: boolean;
}

export const inboundBatchWorkflowId = (integrationId: string, tenantId: string) =>
  `inbound-batch:${integrationId}:${tenantId}`;

export const inboundRetryWorkflowId = (integrationId: string, deliveryKey: string, n: number) =>
  `inbound:${integrationId}:${deliveryKey}:retry-${n}`;

/** The workflows as registered with the worker (src/workflows/incoming/). */
export const INBOUND_WEBHOOK_WORKFLOW = 'inboundWebhook';
export type InboundWebhookWorkflow = (input: InboundWebhookInput) => Promise<InboundWebhookResult>;
export const INBOUND_BATCH_WORKFLOW = 'inboundBatch';
export type InboundBatchWorkflow = (input: InboundBatchInput) => Promise<{ processed: number }>;
