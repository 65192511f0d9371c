import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { LoggedMailRef, MailTrigger } from './db/mail-log';
import type { MailSettings } from './settings';
import { EMAIL_TO_TICKET_WORKFLOW, type EmailToTicketInput, type EmailToTicketWorkflow } from './workflow-contract';
import { SA, searchAttributes } from '../platform/temporal/search-attributes';
import { startWorkflowOnce } from '../platform/temporal/starting';
import { jobFor, type JobFamily, type StarterDeps } from '../platform/intake/family';
import type { NewIntakeJob } from '../platform/intake/jobs';

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

function start(deps: StarterDeps, workflowId: string, input: EmailToTicketInput, mode: 'first' | 'again') {
  return startWorkflowOnce<EmailToTicketWorkflow>(deps.temporal, EMAIL_TO_TICKET_WORKFLOW, {
    taskQueue: deps.taskQueue,
    workflowId,
    args: [input],
    workflowIdReusePolicy:
      mode === 'first' ? WorkflowIdReusePolicy.REJECT_DUPLICATE : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    workflowIdConflictPolicy: mode === 'first' ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
    typedSearchAttributes: searchAttributes([
      [SA.integration, 'microsoft365'],
      [SA.mailboxId, input.mailboxId],
      [SA.entityId, input.mailId],
    ]),
  });
}

/**
 * Emails logged at intake (notifications, delta catch-up): first runs only. A first run joins or
 * ignores an existing one, so one email never runs twice.
 */
export const emailToTicketFamily: JobFamily<{ input: EmailToTicketInput }> = {
  kind: 'mail.start',
  run: async (deps, workflowId, [first]) => {
    if (first) await start(deps, workflowId, first.input, 'first');
  },
};

/** Emails processed again (the scheduler's retries, a person's retry): a new run after a closed one. */
export const emailRetryFamily: JobFamily<{ input: EmailToTicketInput }> = {
  kind: 'mail.again',
  run: async (deps, workflowId, [first]) => {
    // A run still in flight (finishing its notifications) would swallow the retry: the starter
    // tries the job again later, once that run has closed.
    if (first && (await start(deps, workflowId, first.input, 'again')) === 'running')
      throw new Error('the email is still being processed; it runs again once that run closes');
  },
};

/** The outbox row that runs a logged email (again, for `again`) once the caller's transaction commits. */
export function emailJob(
  settings: StartMailDeps['settings'],
  row: LoggedMailRef,
  trigger: MailTrigger,
  mode: 'first' | 'again',
): NewIntakeJob {
  const input = emailToTicketInput(settings, row, trigger);
  return jobFor(mode === 'first' ? emailToTicketFamily : emailRetryFamily, row.workflow_id, { input });
}
