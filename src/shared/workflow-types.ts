/** Inputs and outputs shared by the API (which starts workflows) and the worker (which runs them). */

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

// Outgoing webhooks. Bodies stay in PostgreSQL; workflows carry ids.

export interface OutgoingDispatchInput {
  eventId: string;
}

/** What dispatch does for one matching webhook: start a delivery, or add the event to a batch. */
export type DispatchTarget = DeliverTarget | BatchTarget;
export interface DeliverTarget {
  kind: 'deliver';
  deliveryId: string;
}
export interface BatchTarget {
  kind: 'batch';
  webhookId: string;
  groupKey: string;
  eventId: string;
}

export interface OutgoingDispatchResult {
  targets: number;
}

export interface OutgoingDeliveryInput {
  deliveryId: string;
  webhookId: string;
  /** Waits between attempts; the first attempt is immediate, so attempts = length + 1. */
  retryScheduleMs: number[];
  /** Upper bound for one attempt's activity (the HTTP timeout plus bookkeeping). */
  attemptTimeoutMs: number;
}

export interface OutgoingDeliveryResult {
  status: 'succeeded' | 'failed' | 'held' | 'deleted';
}

export interface WebhookBatchInput {
  webhookId: string;
  groupKey: string;
  waitSeconds: number;
  maxItems: number;
  /** How long an empty batch workflow lingers before it completes. */
  idleSeconds: number;
  /** Continue-as-new after this many flushes even if the server has not suggested it. */
  maxFlushesPerRun: number;
  /** Event ids carried over a continue-as-new. */
  pending?: string[];
}

export const BATCH_SIGNAL = 'addToBatch';
export interface BatchSignal {
  eventId: string;
}

export const outgoingWorkflowIds = {
  dispatch: (eventId: string) => `dispatch:${eventId}`,
  delivery: (webhookId: string, eventId: string) => `delivery:${webhookId}:${eventId}`,
  batchDelivery: (webhookId: string, deliveryId: string) => `delivery:${webhookId}:batch-${deliveryId}`,
  batch: (webhookId: string, groupKey: string) => `batch:${webhookId}:${groupKey}`,
};
