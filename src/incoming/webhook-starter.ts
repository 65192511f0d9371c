import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { SA, searchAttributes } from '../platform/temporal/search-attributes';
import { INBOUND_WEBHOOK_WORKFLOW, type InboundWebhookInput, type InboundWebhookWorkflow } from './workflow-contract';
import { jobFor, type JobFamily, type StarterDeps } from '../platform/intake/family';
import type { NewIntakeJob } from '../platform/intake/jobs';
import type { IncomingWebhookRow } from './db/incoming-webhooks';
import type { IntegrationRow } from './db/integrations';
import type { InboundProcessingSettings } from './processing-methods';

/** What the UI filters an incoming webhook's run by. */
export interface InboundSearch {
  provider: string;
  integrationId: string;
  eventType: string | null;
  entityId: string | null;
}

export interface InboundWebhookStart {
  input: InboundWebhookInput;
  search: InboundSearch;
}

/**
 * Starts an incoming webhook's processing workflow. A run that exists or existed under the id is
 * left alone (a manual retry has its own id), so running this twice starts one run.
 */
export async function startInboundWebhook(deps: StarterDeps, workflowId: string, start: InboundWebhookStart) {
  try {
    await deps.temporal.workflow.start<InboundWebhookWorkflow>(INBOUND_WEBHOOK_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [start.input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: searchAttributes([
        [SA.integration, start.search.provider],
        [SA.integrationId, start.search.integrationId],
        [SA.eventType, start.search.eventType],
        [SA.entityId, start.search.entityId],
      ]),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

export const inboundWebhookFamily: JobFamily<InboundWebhookStart> = {
  kind: 'inbound.start',
  run: (deps, workflowId, [first]) => (first ? startInboundWebhook(deps, workflowId, first) : Promise.resolve()),
};

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
