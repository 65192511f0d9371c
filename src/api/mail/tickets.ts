import express, { type Router } from 'express';
import { z } from 'zod';
import { listTicketAttachments } from '../../mail/db/attachments';
import { getTicket, listTicketMessages, listTickets } from '../../mail/db/tickets';
import { ticketToken } from '../../mail/threading';
import { replyToTicket, type TicketReplyDeps } from '../../mail/ticket-reply-service';
import { HttpError, parseOr400 } from '../errors';
import { attachmentNotes, presentAttachment, ticketAttachmentsRouter } from './ticket-attachments';
import { presentMessage, presentTicket } from './ticket-presenters';
import { decodeCursor, keysetPage, limitSchema } from '../pagination';

export const listQuery = z
  .object({ mailboxId: z.uuid().optional(), cursor: z.string().optional(), limit: limitSchema })
  .strict();

export const replyBody = z
  .object({
    body: z.string().min(1).max(200_000),
    contentType: z.enum(['text', 'html']).default('text'),
    to: z.array(z.email()).min(1).max(50).optional(),
    /** Stored attachments of this ticket to send with the reply. */
    attachmentIds: z.array(z.uuid()).max(20).optional(),
  })
  .strict();

export type TicketsDeps = TicketReplyDeps;

/** `/api/v1/tickets`: tickets made from email, their messages, and replies sent through Graph. */
export function ticketsRouter(deps: TicketsDeps): Router {
  const { db } = deps;
  const router = express.Router();

  const load = async (raw: string) => {
    const id = parseOr400(z.uuid(), raw, 'ticket id');
    const ticket = await getTicket(db, id);
    if (!ticket) throw new HttpError(404, 'ticket_not_found', `No ticket ${id}`);
    return ticket;
  };

  router.get('/', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'query');
    const rows = await listTickets(db, {
      mailboxId: q.mailboxId,
      before: decodeCursor(q.cursor, 'uuid'),
      limit: q.limit + 1,
    });
    const { page, nextCursor } = keysetPage(rows, q.limit);
    res.json({ data: page.map(presentTicket), nextCursor });
  });

  router.get('/:id', async (req, res) => {
    const ticket = await load(req.params.id);
    const attachments = await listTicketAttachments(db, ticket.id);
    const related = ticket.related_ticket_id ? await getTicket(db, ticket.related_ticket_id) : undefined;
    res.json({
      ...presentTicket(ticket),
      relatedTicket: related
        ? {
            id: related.id,
            number: Number(related.number),
            token: ticketToken(related.number),
            summary: related.summary,
          }
        : null,
      messages: (await listTicketMessages(db, ticket.id)).map((m) => presentMessage(m, attachments)),
      attachments: attachments.map(presentAttachment),
      notes: attachmentNotes(attachments),
    });
  });

  router.get('/:id/attachments', async (req, res) => {
    const ticket = await load(req.params.id);
    res.json({ data: (await listTicketAttachments(db, ticket.id)).map(presentAttachment) });
  });
  router.use('/:id/attachments', ticketAttachmentsRouter({ db, load }));

  // The reply is stored first, then sent by a workflow (retried through throttling), answered 202.
  router.post('/:id/reply', async (req, res) => {
    const ticket = await load(req.params.id);
    const body = parseOr400(replyBody, req.body);
    const outcome = await replyToTicket(deps, ticket, body);
    if (!outcome.ok) throw new HttpError(outcome.refusal.status, outcome.refusal.code, outcome.refusal.message);
    const { message, workflowId } = outcome;
    res.status(202).json({ ...presentMessage(message, await listTicketAttachments(db, ticket.id)), workflowId });
  });

  return router;
}
