import { attachToReply, listTicketAttachments, type TicketAttachmentRow } from './db/attachments';
import { getOutgoingDefault } from './db/mailboxes';
import type { Db } from '../platform/db/pool';
import type { TicketMessageRow, TicketRow } from './db/tickets';
import { queueTicketReply } from './reply-intake';
import { subjectWithToken } from './threading';
import { formatBytes } from './format-bytes';

/**
 * Replying to a ticket: the reply goes out from the outgoing default mailbox, to the requester
 * unless told otherwise, with chosen stored attachments of the ticket. It is stored with its
 * send (intake); a workflow sends it through Graph.
 */

export interface TicketReplyDeps {
  db: Db;
  wake: () => void;
  settings: { replyAttachmentsMaxBytes: number };
}

export interface ReplyRequest {
  body: string;
  contentType: 'text' | 'html';
  to?: string[] | undefined;
  /** Stored attachments of this ticket to send with the reply. */
  attachmentIds?: string[] | undefined;
}

/** Why a reply was not queued; `status` is the HTTP status the API answers with. */
export interface ReplyRefusal {
  status: 400 | 409 | 413;
  code: string;
  message: string;
}

export type ReplyOutcome =
  { ok: true; message: TicketMessageRow; workflowId: string } | { ok: false; refusal: ReplyRefusal };

const refuse = (status: ReplyRefusal['status'], code: string, message: string): ReplyOutcome => ({
  ok: false,
  refusal: { status, code, message },
});

/** The ticket's stored attachments a reply may carry, within Graph's request size; a refusal otherwise. */
async function chooseAttachments(
  deps: TicketReplyDeps,
  ticketId: string,
  ids: string[],
): Promise<TicketAttachmentRow[] | ReplyOutcome> {
  if (ids.length === 0) return [];
  const all = await listTicketAttachments(deps.db, ticketId);
  const missing = ids.filter((id) => !all.some((a) => a.id === id && a.sha256));
  if (missing.length)
    return refuse(400, 'unknown_attachment', `Not a stored attachment of this ticket: ${missing.join(', ')}`);
  const rows = [...new Set(ids)].map((id) => all.find((a) => a.id === id)!);
  const total = rows.reduce((sum, a) => sum + Number(a.size), 0);
  const max = deps.settings.replyAttachmentsMaxBytes;
  if (total > max)
    return refuse(
      413,
      'attachments_too_large',
      `The chosen attachments total ${formatBytes(total)}; a reply may carry at most ${formatBytes(max)}`,
    );
  return rows;
}

export async function replyToTicket(
  deps: TicketReplyDeps,
  ticket: TicketRow,
  request: ReplyRequest,
): Promise<ReplyOutcome> {
  const sender = await getOutgoingDefault(deps.db);
  if (!sender)
    return refuse(409, 'no_outgoing_mailbox', 'Choose an outgoing default mailbox (outgoingDefault: true) first');
  const to = request.to ?? (ticket.requester_address ? [ticket.requester_address] : []);
  if (to.length === 0) return refuse(400, 'no_recipient', 'The ticket has no requester address: give "to"');
  const chosen = await chooseAttachments(deps, ticket.id, request.attachmentIds ?? []);
  if (!Array.isArray(chosen)) return chosen;
  const { message, workflowId } = await queueTicketReply(deps, {
    ticketId: ticket.id,
    sender,
    to,
    subject: subjectWithToken(`RE: ${ticket.summary.replace(/^(re|fw|fwd):\s*/i, '')}`, Number(ticket.number)),
    contentType: request.contentType,
    body: request.body,
    attach: async (tx, messageId) => {
      await attachToReply(tx, ticket.id, messageId, chosen);
    },
  });
  return { ok: true, message, workflowId };
}
