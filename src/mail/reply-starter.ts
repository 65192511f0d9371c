import { WorkflowIdReusePolicy } from '@temporalio/common';
import { TICKET_REPLY_WORKFLOW, type TicketReplyInput, type TicketReplyWorkflow } from './workflow-contract';
import { SA, searchAttributes } from '../platform/temporal/search-attributes';
import { startWorkflowOnce } from '../platform/temporal/starting';
import type { JobFamily } from '../platform/intake/family';

export interface TicketReplyStart {
  input: TicketReplyInput;
  mailboxId: string;
  ticketId: string;
}

/** Sends a stored ticket reply through Graph; the reply's message id makes a second start a no-op. */
export const ticketReplyFamily: JobFamily<TicketReplyStart> = {
  kind: 'ticket.reply',
  run: async (deps, workflowId, [first]) => {
    if (!first) return;
    await startWorkflowOnce<TicketReplyWorkflow>(deps.temporal, TICKET_REPLY_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [first.input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: searchAttributes([
        [SA.integration, 'microsoft365'],
        [SA.mailboxId, first.mailboxId],
        [SA.entityId, first.ticketId],
      ]),
    });
  },
};
