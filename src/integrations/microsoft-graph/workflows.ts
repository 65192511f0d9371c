import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { InboundMailRow, MailTrigger } from '../../db/mail-log';
import { mailboxWorkflowIds, type EmailToTicketInput } from '../../shared/mailbox';
import { SA } from '../../shared/search-attributes';
import type { MailSettings } from './settings';

/** What starting an email's workflow needs; the API and activities both have it. */
export interface StartMailDeps {
  temporal: Client;
  taskQueue: string;
  settings: Pick<MailSettings, 'processAttempts' | 'retryInitialSeconds'>;
}

export const mailWorkflowId = (mailboxId: string, graphMessageId: string) =>
  mailboxWorkflowIds.mail(mailboxId, graphMessageId);

/**
 * Starts the email-to-ticket workflow of a logged email. `first` (notification, delta) joins
 * or ignores an existing run, so one email never runs twice; `again` (scheduler or manual
 * retry) starts a new run after a closed one and reports `running` when one is in flight.
 */
export async function startEmailToTicket(
  deps: StartMailDeps,
  row: Pick<InboundMailRow, 'id' | 'mailbox_id' | 'graph_message_id' | 'workflow_id' | 'attempts_made'>,
  trigger: MailTrigger,
  mode: 'first' | 'again',
): Promise<'started' | 'running'> {
  const input: EmailToTicketInput = {
    mailboxId: row.mailbox_id,
    mailId: row.id,
    firstAttempt: row.attempts_made + 1,
    maxAttempts: deps.settings.processAttempts,
    retryInitialSeconds: deps.settings.retryInitialSeconds,
    trigger,
  };
  try {
    await deps.temporal.workflow.start('emailToTicket', {
      taskQueue: deps.taskQueue,
      workflowId: row.workflow_id,
      args: [input],
      workflowIdReusePolicy:
        mode === 'first' ? WorkflowIdReusePolicy.REJECT_DUPLICATE : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      workflowIdConflictPolicy:
        mode === 'first' ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: [
        { key: SA.integration, value: 'microsoft365' },
        { key: SA.mailboxId, value: row.mailbox_id },
        { key: SA.entityId, value: row.id },
      ],
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running';
    throw err;
  }
}
