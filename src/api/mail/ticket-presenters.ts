/** How tickets and their messages are shown by the API. */
import type { TicketAttachmentRow } from '../../mail/db/attachments';
import type { TicketMessageRow, TicketRow } from '../../mail/db/tickets';
import { ticketToken } from '../../mail/threading';
import { presentAttachment, rewriteCids } from './ticket-attachments';

export function presentTicket(t: TicketRow) {
  return {
    id: t.id,
    number: Number(t.number),
    token: ticketToken(t.number),
    mailboxId: t.mailbox_id,
    summary: t.summary,
    details: t.details,
    status: t.status,
    requester: t.requester_address ? { address: t.requester_address, name: t.requester_name } : null,
    conversationId: t.conversation_id,
    messageCount: t.message_count,
    /** The ticket a stranger's mail pointed at when it opened this one instead: merge it there if it belongs. */
    relatedTicketId: t.related_ticket_id,
    createdAt: t.created_at,
    updatedAt: t.updated_at,
  };
}

export function presentMessage(m: TicketMessageRow, attachments: TicketAttachmentRow[] = []) {
  const own = attachments.filter((a) => a.ticket_message_id === m.id);
  return {
    id: m.id,
    direction: m.direction,
    mailboxId: m.mailbox_id,
    inboundMailId: m.inbound_mail_id,
    internetMessageId: m.internet_message_id,
    conversationId: m.conversation_id,
    from: m.from_address ? { address: m.from_address, name: m.from_name } : null,
    to: m.to_addresses,
    subject: m.subject,
    bodyType: m.body_type,
    body: m.body,
    /** The HTML body with inline images (`cid:`) pointing at their download URLs. */
    renderedBody: m.body_type === 'html' ? rewriteCids(m.body, own) : null,
    uniqueBody: m.unique_body,
    attachments: own.map(presentAttachment),
    threadedBy: m.threaded_by,
    status: m.status,
    error: m.error,
    createdAt: m.created_at,
    sentAt: m.sent_at,
  };
}
