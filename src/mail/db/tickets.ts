import { type Keyset, type WithKeyset, keysetBefore, keysetColumn } from '../../platform/db/keyset';
import type { Queryable } from '../../platform/db/pool';

export interface TicketRow {
  id: string;
  number: string;
  mailbox_id: string | null;
  summary: string;
  details: string;
  status: string;
  requester_address: string | null;
  requester_name: string | null;
  conversation_id: string | null;
  message_count: number;
  /** The ticket a stranger's mail pointed at, when it opened this one instead (for an agent to merge). */
  related_ticket_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export type ThreadRule = 'new' | 'token' | 'references' | 'conversation';

export interface TicketMessageRow {
  id: string;
  ticket_id: string;
  direction: 'inbound' | 'outbound';
  mailbox_id: string | null;
  inbound_mail_id: string | null;
  graph_message_id: string | null;
  internet_message_id: string | null;
  conversation_id: string | null;
  from_address: string | null;
  from_name: string | null;
  to_addresses: Array<{ address: string; name?: string }>;
  subject: string;
  body_type: string;
  body: string;
  unique_body: string | null;
  threaded_by: ThreadRule | null;
  status: 'received' | 'sending' | 'sent' | 'failed';
  error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export type NewTicketMessage = Omit<TicketMessageRow, 'created_at' | 'sent_at' | 'error'>;

export async function insertTicket(
  db: Queryable,
  t: Pick<
    TicketRow,
    'id' | 'mailbox_id' | 'summary' | 'details' | 'requester_address' | 'requester_name' | 'conversation_id'
  > &
    Partial<Pick<TicketRow, 'related_ticket_id'>>,
): Promise<TicketRow> {
  const { rows } = await db.query<TicketRow>(
    `INSERT INTO tickets (id, mailbox_id, summary, details, requester_address, requester_name, conversation_id,
       related_ticket_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [
      t.id,
      t.mailbox_id,
      t.summary,
      t.details,
      t.requester_address,
      t.requester_name,
      t.conversation_id,
      t.related_ticket_id ?? null,
    ],
  );
  return rows[0]!;
}

/** Adds a message to its ticket; returns undefined when this internet message id is already stored. */
export async function insertTicketMessage(db: Queryable, m: NewTicketMessage): Promise<TicketMessageRow | undefined> {
  const { rows } = await db.query<TicketMessageRow>(
    `INSERT INTO ticket_messages (id, ticket_id, direction, mailbox_id, inbound_mail_id, graph_message_id,
       internet_message_id, conversation_id, from_address, from_name, to_addresses, subject, body_type, body,
       unique_body, threaded_by, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     ON CONFLICT (internet_message_id) DO NOTHING RETURNING *`,
    [
      m.id,
      m.ticket_id,
      m.direction,
      m.mailbox_id,
      m.inbound_mail_id,
      m.graph_message_id,
      m.internet_message_id,
      m.conversation_id,
      m.from_address,
      m.from_name,
      JSON.stringify(m.to_addresses),
      m.subject,
      m.body_type,
      m.body,
      m.unique_body,
      m.threaded_by,
      m.status,
    ],
  );
  if (rows[0]) {
    await db.query('UPDATE tickets SET message_count = message_count + 1, updated_at = now() WHERE id = $1', [
      m.ticket_id,
    ]);
  }
  return rows[0];
}

export async function getTicket(db: Queryable, id: string): Promise<TicketRow | undefined> {
  const { rows } = await db.query<TicketRow>('SELECT * FROM tickets WHERE id = $1', [id]);
  return rows[0];
}

/** The stored message with this internet message id, whichever mailbox brought it. */
export async function findMessageByInternetId(
  db: Queryable,
  internetMessageId: string,
): Promise<TicketMessageRow | undefined> {
  const { rows } = await db.query<TicketMessageRow>('SELECT * FROM ticket_messages WHERE internet_message_id = $1', [
    internetMessageId,
  ]);
  return rows[0];
}

// A ticket belongs to the mailbox that received it and to every mailbox that carried one of its
// messages (the outgoing mailbox its replies were sent from): mail to other mailboxes never joins it.
const IN_MAILBOX = (t: string, mailbox: string) =>
  `(${t}.mailbox_id = ${mailbox} OR EXISTS (SELECT 1 FROM ticket_messages x WHERE x.ticket_id = ${t}.id AND x.mailbox_id = ${mailbox}))`;

/** The ticket with this number, if it belongs to this mailbox. */
export async function getTicketByNumberInMailbox(
  db: Queryable,
  number: number,
  mailboxId: string,
): Promise<TicketRow | undefined> {
  const { rows } = await db.query<TicketRow>(
    `SELECT t.* FROM tickets t WHERE t.number = $1 AND ${IN_MAILBOX('t', '$2')}`,
    [number, mailboxId],
  );
  return rows[0];
}

/** The tickets of this mailbox holding any of these message ids, in the order the ids are listed. */
export async function findTicketsByMessageIds(db: Queryable, mailboxId: string, ids: string[]): Promise<TicketRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<TicketRow>(
    `SELECT t.* FROM (
       SELECT ticket_id, min(array_position($1::text[], internet_message_id)) AS at FROM ticket_messages
       WHERE internet_message_id = ANY($1) GROUP BY ticket_id) found
     JOIN tickets t ON t.id = found.ticket_id
     WHERE ${IN_MAILBOX('t', '$2')}
     ORDER BY found.at`,
    [ids, mailboxId],
  );
  return rows;
}

/**
 * Whether an address took part in a ticket: its requester, the sender of one of its emails, or
 * someone its emails were addressed to (the requester's own recipients, an agent's reply's).
 */
export async function tookPartInTicket(db: Queryable, ticketId: string, address: string): Promise<boolean> {
  const { rows } = await db.query<{ yes: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM tickets WHERE id = $1 AND lower(requester_address) = $2)
         OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_id = $1 AND (
              (m.direction = 'inbound' AND lower(m.from_address) = $2)
              OR EXISTS (SELECT 1 FROM jsonb_array_elements(m.to_addresses) r WHERE lower(r->>'address') = $2)))
       AS yes`,
    [ticketId, address.toLowerCase()],
  );
  return rows[0]?.yes ?? false;
}

/**
 * The tickets carrying this conversation in this mailbox (conversation ids are per mailbox), the
 * latest first: a stranger's linked ticket may share the conversation of the one it points at.
 */
export async function findTicketsByConversation(
  db: Queryable,
  mailboxId: string,
  conversationId: string,
): Promise<TicketRow[]> {
  const { rows } = await db.query<TicketRow>(
    `SELECT t.* FROM tickets t WHERE t.id IN (
       SELECT ticket_id FROM ticket_messages WHERE mailbox_id = $1 AND conversation_id = $2
       UNION SELECT id FROM tickets WHERE mailbox_id = $1 AND conversation_id = $2)
     ORDER BY t.created_at DESC LIMIT 20`,
    [mailboxId, conversationId],
  );
  return rows;
}

export async function listTickets(
  db: Queryable,
  f: { mailboxId?: string | undefined; before?: Keyset | undefined; limit: number },
): Promise<WithKeyset<TicketRow>[]> {
  const args: unknown[] = [];
  const where: string[] = [];
  if (f.mailboxId) {
    args.push(f.mailboxId);
    where.push(`mailbox_id = $${args.length}`);
  }
  if (f.before) where.push(keysetBefore('created_at', 'id', 'uuid', f.before, (v) => `$${args.push(v)}`));
  args.push(f.limit);
  const { rows } = await db.query<WithKeyset<TicketRow>>(
    `SELECT *, ${keysetColumn('created_at')} FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${args.length}`,
    args,
  );
  return rows;
}

export async function listTicketMessages(db: Queryable, ticketId: string): Promise<TicketMessageRow[]> {
  const { rows } = await db.query<TicketMessageRow>(
    'SELECT * FROM ticket_messages WHERE ticket_id = $1 ORDER BY created_at, id',
    [ticketId],
  );
  return rows;
}

export async function getTicketMessage(db: Queryable, id: string): Promise<TicketMessageRow | undefined> {
  const { rows } = await db.query<TicketMessageRow>('SELECT * FROM ticket_messages WHERE id = $1', [id]);
  return rows[0];
}

/** The newest inbound message of a ticket, the one a reply answers. */
export async function latestInbound(db: Queryable, ticketId: string): Promise<TicketMessageRow | undefined> {
  const { rows } = await db.query<TicketMessageRow>(
    `SELECT * FROM ticket_messages WHERE ticket_id = $1 AND direction = 'inbound' ORDER BY created_at DESC LIMIT 1`,
    [ticketId],
  );
  return rows[0];
}

export async function setTicketMessageStatus(
  db: Queryable,
  id: string,
  status: 'sent' | 'failed',
  error: string | null,
): Promise<void> {
  await db.query(
    `UPDATE ticket_messages SET status = $2, error = $3, sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END WHERE id = $1`,
    [id, status, error],
  );
}
