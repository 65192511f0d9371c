import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { DeliveryRow } from '../db/deliveries';
import { SA } from '../shared/search-attributes';
import {
  BATCH_SIGNAL,
  outgoingWorkflowIds,
  type BatchSignal,
  type OutgoingDeliveryInput,
  type OutgoingDispatchInput,
  type WebhookBatchInput,
} from '../shared/workflow-types';
import type { OutgoingSettings } from './settings';

/** What starting outgoing workflows needs: a client, the task queue and the settings. */
export interface StartDeps {
  temporal: Client;
  taskQueue: string;
  settings: OutgoingSettings;
}

// Bookkeeping around the HTTP request (database, signing) gets this much on top of its timeout.
const ATTEMPT_OVERHEAD_MS = 30_000;

const attrs = (pairs: Array<[SearchAttributePair['key'], string | null | undefined]>): SearchAttributePair[] =>
  pairs
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([key, value]) => ({ key, value }) as SearchAttributePair);

/**
 * Starts a delivery's workflow. `first` (dispatch, batch flush) is idempotent: a run that
 * exists or existed is left alone. `again` (resend, release of held) starts a new run after a
 * closed one and reports `running` when one is still in flight.
 */
export async function startDeliveryWorkflow(
  deps: StartDeps,
  d: Pick<DeliveryRow, 'id' | 'webhook_id' | 'workflow_id' | 'event_type' | 'object_id'>,
  mode: 'first' | 'again',
): Promise<'started' | 'running'> {
  const input: OutgoingDeliveryInput = {
    deliveryId: d.id,
    webhookId: d.webhook_id,
    retryScheduleMs: deps.settings.retryScheduleMs,
    attemptTimeoutMs: deps.settings.requestTimeoutMs + ATTEMPT_OVERHEAD_MS,
  };
  try {
    await deps.temporal.workflow.start('outgoingDelivery', {
      taskQueue: deps.taskQueue,
      workflowId: d.workflow_id,
      args: [input],
      workflowIdReusePolicy:
        mode === 'first' ? WorkflowIdReusePolicy.REJECT_DUPLICATE : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      workflowIdConflictPolicy:
        mode === 'first' ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: attrs([
        [SA.webhookId, d.webhook_id],
        [SA.eventType, d.event_type],
        [SA.entityId, d.object_id],
      ]),
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running';
    throw err;
  }
}

/** Starts the dispatch of a stored event; a second call for the same event does nothing. */
export async function startDispatchWorkflow(
  deps: Omit<StartDeps, 'settings'>,
  e: { id: string; type: string; objectId: string },
): Promise<void> {
  const input: OutgoingDispatchInput = { eventId: e.id };
  try {
    await deps.temporal.workflow.start('outgoingDispatch', {
      taskQueue: deps.taskQueue,
      workflowId: outgoingWorkflowIds.dispatch(e.id),
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: attrs([
        [SA.eventType, e.type],
        [SA.entityId, e.objectId],
      ]),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Adds an event to its batch: signals the group's batch workflow, starting it if none runs. */
export async function signalBatchWorkflow(
  deps: StartDeps,
  b: {
    webhookId: string;
    groupKey: string;
    eventId: string;
    waitSeconds: number;
    maxItems: number;
    eventType?: string | undefined;
  },
): Promise<void> {
  const input: WebhookBatchInput = {
    webhookId: b.webhookId,
    groupKey: b.groupKey,
    waitSeconds: b.waitSeconds,
    maxItems: b.maxItems,
    idleSeconds: deps.settings.batchIdleSeconds,
    maxFlushesPerRun: deps.settings.batchMaxFlushesPerRun,
  };
  const signal: BatchSignal = { eventId: b.eventId };
  await deps.temporal.workflow.signalWithStart('webhookBatch', {
    taskQueue: deps.taskQueue,
    workflowId: outgoingWorkflowIds.batch(b.webhookId, b.groupKey),
    args: [input],
    signal: BATCH_SIGNAL,
    signalArgs: [signal],
    typedSearchAttributes: attrs([
      [SA.webhookId, b.webhookId],
      [SA.eventType, b.eventType],
    ]),
  });
}
