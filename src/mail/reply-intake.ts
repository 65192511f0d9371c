import { randomUUID } from 'node:crypto';
import type { MailboxRow } from './db/mailboxes';
import type { Queryable } from '../platform/db/pool';
import { insertTicketMessage, type TicketMessageRow } from './db/tickets';
import { mailboxWorkflowIds } from './workflow-contract';
import { jobFor } from '../platform/intake/family';
import { ticketReplyFamily } from './reply-starter';
import { commitWork, type IntakeDeps } from '../platform/ingress/ingress';

export interface TicketReply {
  ticketId: string;
  sender: MailboxRow;
  to: string[];
  subject: string;
  contentType: 'text' | 'html';
  body: string;
  /** Links chosen attachments to the stored message, in the same transaction. */
  attach?: (tx: Queryable, messageId: string) => Promise<void>;
}

/**
 * Stores an outbound ticket message as `sending` and, in the same transaction, the start of the
 * workflow that sends it through Graph; the message is never stored without its send.
 */
export async function queueTicketReply(
  deps: Pick<IntakeDeps, 'db' | 'wake'>,
  reply: TicketReply,
): Promise<{ message: TicketMessageRow; workflowId: string }> {
  return commitWork(deps, async (tx) => {
    const { sender } = reply;
    const message = (await insertTicketMessage(tx, {
      id: randomUUID(),
      ticket_id: reply.ticketId,
      direction: 'outbound',
      mailbox_id: sender.id,
      inbound_mail_id: null,
      graph_message_id: null,
      internet_message_id: null,
      conversation_id: null,
      from_address: sender.email_address ?? sender.shared_mailbox ?? sender.connected_account,
      from_name: sender.name,
      to_addresses: reply.to.map((address) => ({ address })),
      subject: reply.subject,
      body_type: reply.contentType,
      body: reply.body,
      unique_body: null,
      threaded_by: null,
      status: 'sending',
    }))!;
    await reply.attach?.(tx, message.id);
    const workflowId = mailboxWorkflowIds.reply(reply.ticketId, message.id);
    const job = jobFor(ticketReplyFamily, workflowId, {
      input: { ticketMessageId: message.id },
      mailboxId: sender.id,
      ticketId: reply.ticketId,
    });
    return { result: { message, workflowId }, jobs: [job] };
  });
}
