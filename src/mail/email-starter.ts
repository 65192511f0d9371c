import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { LoggedMailRef, MailTrigger } from './db/mail-log';
import type { MailSettings } from './settings';
import { EMAIL_TO_TICKET_WORKFLOW, type EmailToTicketInput, type EmailToTicketWorkflow } from './workflow-contract';
import { SA, searchAttributes } from '../platform/temporal/search-attributes';
import type { JobFamily, StarterDeps } from '../platform/intake/family';

/** What starting an email's workflow needs; the API, the intake starter and activities all have it. */
export interface StartMailDeps extends StarterDeps {
  settings: Pick<MailSettings, 'processAttempts' | 'retryInitialSeconds'>;
}

export function emailToTicketInput(
  settings: StartMailDeps['settings'],
  row: LoggedMailRef,
  trigger: MailTrigger,
): EmailToTicketInput {
  return {
    mailboxId: row.mailbox_id,
    mailId: row.id,
    firstAttempt: row.attempts_made + 1,
    maxAttempts: settings.processAttempts,
    retryInitialSeconds: settings.retryInitialSeconds,
    trigger,
  };
}

async function start(deps: StarterDeps, workflowId: string, input: EmailToTicketInput, mode: 'first' | 'again') {
  try {
    await deps.temporal.workflow.start<EmailToTicketWorkflow>(EMAIL_TO_TICKET_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy:
        mode === 'first' ? WorkflowIdReusePolicy.REJECT_DUPLICATE : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      workflowIdConflictPolicy:
        mode === 'first' ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: searchAttributes([
        [SA.integration, 'microsoft365'],
        [SA.mailboxId, input.mailboxId],
        [SA.entityId, input.mailId],
      ]),
    });
    return 'started' as const;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running' as const;
    throw err;
  }
}

/**
 * Starts the email-to-ticket workflow of a logged email. `first` (notification, delta) joins
 * or ignores an existing run, so one email never runs twice; `again` (scheduler or manual
 * retry) starts a new run after a closed one and reports `running` when one is in flight.
 */
export function startEmailToTicket(
  deps: StartMailDeps,
  row: LoggedMailRef,
  trigger: MailTrigger,
  mode: 'first' | 'again',
): Promise<'started' | 'running'> {
  return start(deps, row.workflow_id, emailToTicketInput(deps.settings, row, trigger), mode);
}

/** Emails logged at intake (notifications): first runs only. */
export const emailToTicketFamily: JobFamily<{ input: EmailToTicketInput }> = {
  kind: 'mail.start',
  run: async (deps, workflowId, [first]) => {
    if (first) await start(deps, workflowId, first.input, 'first');
  },
};
