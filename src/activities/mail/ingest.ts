import { randomUUID } from 'node:crypto';
import { ownAddresses, type MailboxRow } from '../../mail/db/mailboxes';
import type { InboundMailRow } from '../../mail/db/mail-log';
import { withTransaction, type Db } from '../../platform/db/pool';
import {
  findMessageByInternetId,
  findTicketsByConversation,
  findTicketsByMessageIds,
  getTicket,
  getTicketByNumberInMailbox,
  insertTicket,
  insertTicketMessage,
  tookPartInTicket,
  type TicketRow,
} from '../../mail/db/tickets';
import { addressOf, type GraphMessage } from '../../mail/graph/messages';
import {
  chooseThread,
  loopVerdict,
  threadKeys,
  ticketToken,
  type MailFacts,
  type ThreadCandidate,
  type ThreadChoice,
} from '../../mail/threading';

export interface StoreResult {
  status: 'ticket_created' | 'ticket_updated' | 'duplicate' | 'skipped';
  ticketId: string | null;
  outcome: string;
}

const DETAILS_MAX = 20_000;

/** Plain text of a Graph body, for ticket details (the message keeps the original). */
export function plainText(body: { contentType?: string; content?: string } | undefined): string {
  const content = body?.content ?? '';
  const text =
    body?.contentType?.toLowerCase() === 'html'
      ? content
          .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
          .replace(/<br\s*\/?>|<\/p>/gi, '\n')
          .replace(/<[^>]*>/g, ' ')
      : content;
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n\n')
    .trim()
    .slice(0, DETAILS_MAX);
}

export function factsOf(msg: GraphMessage): MailFacts {
  return {
    subject: msg.subject ?? '',
    fromAddress: addressOf(msg.from),
    conversationId: msg.conversationId ?? null,
    internetMessageId: msg.internetMessageId ?? null,
    headers: msg.internetMessageHeaders ?? [],
  };
}

/**
 * The tickets of this mailbox a mail points at, in rule order: each ticket token in the subject,
 * then In-Reply-To/References, then the conversation. Tickets of other mailboxes are never found.
 */
async function threadCandidates(db: Db, mailboxId: string, facts: MailFacts): Promise<ThreadCandidate<TicketRow>[]> {
  const keys = threadKeys(facts);
  const out: ThreadCandidate<TicketRow>[] = [];
  for (const number of keys.ticketNumbers) {
    const ticket = await getTicketByNumberInMailbox(db, number, mailboxId);
    if (ticket) out.push({ ticket, rule: 'token' });
  }
  for (const ticket of await findTicketsByMessageIds(db, mailboxId, keys.references)) {
    out.push({ ticket, rule: 'references' });
  }
  if (keys.conversationId) {
    for (const ticket of await findTicketsByConversation(db, mailboxId, keys.conversationId)) {
      out.push({ ticket, rule: 'conversation' });
    }
  }
  return out;
}

/** The ticket a mail joins (its sender took part in it), or the one a new ticket is linked to. */
async function findThread(db: Db, mailboxId: string, facts: MailFacts): Promise<ThreadChoice<TicketRow>> {
  const candidates = await threadCandidates(db, mailboxId, facts);
  const sender = facts.fromAddress;
  return chooseThread(candidates, (ticket) =>
    sender ? tookPartInTicket(db, ticket.id, sender) : Promise.resolve(false),
  );
}

/**
 * Turns a fetched message into a ticket or a ticket update, or decides it must be skipped.
 * Idempotent: the internet message id is unique among stored messages, so a second run (or a
 * second mailbox receiving the same email) finds the first copy and reports a duplicate.
 */
export async function storeMail(
  db: Db,
  mailbox: MailboxRow,
  mail: InboundMailRow,
  msg: GraphMessage,
  note: (message: string) => void,
): Promise<StoreResult> {
  const facts = factsOf(msg);
  const verdict = loopVerdict(facts, { addresses: await ownAddresses(db) });
  if (verdict.skip) {
    note(`skipped: ${verdict.reason}`);
    return { status: 'skipped', ticketId: null, outcome: `skipped: ${verdict.reason}` };
  }
  // Without a Message-ID (rare, malformed mail) the Graph id is the best identity we have.
  const internetId = facts.internetMessageId ?? `<graph:${mailbox.id}:${msg.id}>`;
  const earlier = await findMessageByInternetId(db, internetId);
  if (earlier?.inbound_mail_id === mail.id) {
    // This very email was stored by an earlier try whose worker died before reporting back.
    note('already stored by an earlier try of this request');
    const created = earlier.threaded_by === 'new';
    const token = ticketToken((await getTicket(db, earlier.ticket_id))?.number ?? '?');
    return {
      status: created ? 'ticket_created' : 'ticket_updated',
      ticketId: earlier.ticket_id,
      outcome: created ? `created ticket ${token}` : `added to ticket ${token} (by ${earlier.threaded_by ?? 'thread'})`,
    };
  }
  if (earlier) {
    note(`duplicate: message ${internetId} is already stored in a ticket`);
    return { status: 'duplicate', ticketId: earlier.ticket_id, outcome: `duplicate of a message already in a ticket` };
  }

  const choice = await findThread(db, mailbox.id, facts);
  const thread = choice.thread;
  const related = choice.thread ? null : choice.related;
  note(
    thread
      ? `threads into ticket ${ticketToken(thread.ticket.number)} by ${thread.rule}`
      : related
        ? `points at ticket ${ticketToken(related.number)}, but ${facts.fromAddress ?? 'the sender'} took no part in it: creating a linked ticket`
        : 'no existing ticket matches: creating one',
  );
  return withTransaction(db, async (tx): Promise<StoreResult> => {
    const ticket =
      thread?.ticket ??
      (await insertTicket(tx, {
        id: randomUUID(),
        mailbox_id: mailbox.id,
        summary: (facts.subject || '(no subject)').slice(0, 500),
        details: plainText(msg.uniqueBody ?? msg.body),
        requester_address: facts.fromAddress,
        requester_name: msg.from?.emailAddress?.name ?? null,
        conversation_id: facts.conversationId,
        related_ticket_id: related?.id ?? null,
      }));
    const stored = await insertTicketMessage(tx, {
      id: randomUUID(),
      ticket_id: ticket.id,
      direction: 'inbound',
      mailbox_id: mailbox.id,
      inbound_mail_id: mail.id,
      graph_message_id: msg.id,
      internet_message_id: internetId,
      conversation_id: facts.conversationId,
      from_address: facts.fromAddress,
      from_name: msg.from?.emailAddress?.name ?? null,
      to_addresses: (msg.toRecipients ?? []).map((r) => ({
        address: addressOf(r) ?? '',
        name: r.emailAddress?.name ?? '',
      })),
      subject: facts.subject,
      body_type: msg.body?.contentType?.toLowerCase() ?? 'text',
      body: msg.body?.content ?? '',
      unique_body: msg.uniqueBody?.content ?? null,
      threaded_by: thread?.rule ?? 'new',
      status: 'received',
    });
    if (!stored) {
      // Another run stored the same email between our check and now: undo the ticket we made.
      throw new DuplicateMailError(internetId);
    }
    const token = ticketToken(ticket.number);
    const created = `created ticket ${token}${related ? `, linked to ${ticketToken(related.number)}` : ''}`;
    note(thread ? `added to ticket ${token}` : created);
    return thread
      ? { status: 'ticket_updated', ticketId: ticket.id, outcome: `added to ticket ${token} (by ${thread.rule})` }
      : { status: 'ticket_created', ticketId: ticket.id, outcome: created };
  }).catch(async (err: unknown) => {
    if (!(err instanceof DuplicateMailError)) throw err;
    const winner = await findMessageByInternetId(db, internetId);
    note('duplicate: stored concurrently by another run');
    return {
      status: 'duplicate' as const,
      ticketId: winner?.ticket_id ?? null,
      outcome: 'duplicate of a message already in a ticket',
    };
  });
}

/** Raised inside the store transaction to roll it back when a concurrent run won the race. */
export class DuplicateMailError extends Error {
  override name = 'DuplicateMailError';
  constructor(internetMessageId: string) {
    super(`message ${internetMessageId} was stored concurrently`);
  }
}
