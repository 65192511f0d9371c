import { createHash, randomUUID } from 'node:crypto';
import { withTransaction, type Db, type Queryable } from '../../platform/db/pool';

export interface TicketAttachmentRow {
  id: string;
  ticket_id: string;
  ticket_message_id: string;
  graph_attachment_id: string | null;
  name: string;
  content_type: string;
  size: string;
  is_inline: boolean;
  content_id: string | null;
  sha256: string | null;
  skipped_reason: string | null;
  created_at: Date;
}

export interface NewAttachment {
  ticketId: string;
  ticketMessageId: string;
  graphAttachmentId: string | null;
  name: string;
  contentType: string;
  isInline: boolean;
  contentId: string | null;
}

export const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Stores an attachment's content (once per hash) and its row. Idempotent per (message, Graph
 * attachment id): a second call returns the row the first stored.
 */
export async function storeAttachment(db: Queryable, a: NewAttachment, content: Buffer): Promise<TicketAttachmentRow> {
  const sha = sha256Of(content);
  await db.query(
    'INSERT INTO attachment_blobs (sha256, size, content) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING',
    [sha, content.length, content],
  );
  return insertRow(db, a, { size: content.length, sha256: sha, skippedReason: null });
}

// Content is written in parts of about this size: few round trips, little held at once.
const PART_BYTES = 1024 * 1024;

/**
 * Stores an attachment's content as it arrives, without holding it: each part goes to a table
 * of this transaction as soon as it is complete, hashed on the way, and PostgreSQL builds the
 * one bytea at the end (once per hash, as `storeAttachment`). The worker holds one part at a
 * time. An error from `chunks` (a download that failed or outgrew its limit) rolls everything
 * back and is rethrown as it is.
 */
export async function storeAttachmentStream(
  db: Db,
  a: NewAttachment,
  chunks: AsyncIterable<Uint8Array>,
): Promise<TicketAttachmentRow> {
  return withTransaction(db, async (tx) => {
    await tx.query(
      'CREATE TEMPORARY TABLE attachment_parts (part int PRIMARY KEY, content bytea NOT NULL) ON COMMIT DROP',
    );
    const hash = createHash('sha256');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let parts = 0;
    let size = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const part = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await tx.query('INSERT INTO attachment_parts (part, content) VALUES ($1, $2)', [parts++, part]);
    };
    for await (const chunk of chunks) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      hash.update(bytes);
      size += bytes.length;
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= PART_BYTES) await flush();
    }
    await flush();
    const sha = hash.digest('hex');
    await tx.query(
      `INSERT INTO attachment_blobs (sha256, size, content)
       SELECT $1, $2, coalesce(string_agg(content, ''::bytea ORDER BY part), ''::bytea) FROM attachment_parts
       ON CONFLICT (sha256) DO NOTHING`,
      [sha, size],
    );
    return insertRow(tx, a, { size, sha256: sha, skippedReason: null });
  });
}

/** Records an attachment that was not stored (past a limit, or not a file): the ticket's note about it. */
export async function recordSkippedAttachment(
  db: Queryable,
  a: NewAttachment,
  size: number,
  reason: string,
): Promise<TicketAttachmentRow> {
  return insertRow(db, a, { size, sha256: null, skippedReason: reason });
}

async function insertRow(
  db: Queryable,
  a: NewAttachment,
  c: { size: number; sha256: string | null; skippedReason: string | null },
): Promise<TicketAttachmentRow> {
  const { rows } = await db.query<TicketAttachmentRow>(
    `INSERT INTO ticket_attachments (id, ticket_id, ticket_message_id, graph_attachment_id, name, content_type, size,
       is_inline, content_id, sha256, skipped_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (ticket_message_id, graph_attachment_id) DO NOTHING RETURNING *`,
    [
      randomUUID(),
      a.ticketId,
      a.ticketMessageId,
      a.graphAttachmentId,
      a.name,
      a.contentType,
      c.size,
      a.isInline,
      a.contentId,
      c.sha256,
      c.skippedReason,
    ],
  );
  if (rows[0]) return rows[0];
  const existing = await db.query<TicketAttachmentRow>(
    'SELECT * FROM ticket_attachments WHERE ticket_message_id = $1 AND graph_attachment_id = $2',
    [a.ticketMessageId, a.graphAttachmentId],
  );
  return existing.rows[0]!;
}

/** Attachment rows already stored for a message, keyed by Graph attachment id. */
export async function attachmentsOfMessage(db: Queryable, ticketMessageId: string): Promise<TicketAttachmentRow[]> {
  const { rows } = await db.query<TicketAttachmentRow>(
    'SELECT * FROM ticket_attachments WHERE ticket_message_id = $1 ORDER BY created_at, id',
    [ticketMessageId],
  );
  return rows;
}

export async function listTicketAttachments(db: Queryable, ticketId: string): Promise<TicketAttachmentRow[]> {
  const { rows } = await db.query<TicketAttachmentRow>(
    'SELECT * FROM ticket_attachments WHERE ticket_id = $1 ORDER BY created_at, id',
    [ticketId],
  );
  return rows;
}

export async function getTicketAttachment(
  db: Queryable,
  ticketId: string,
  id: string,
): Promise<TicketAttachmentRow | undefined> {
  const { rows } = await db.query<TicketAttachmentRow>(
    'SELECT * FROM ticket_attachments WHERE ticket_id = $1 AND id = $2',
    [ticketId, id],
  );
  return rows[0];
}

export async function attachmentContent(db: Queryable, sha256: string): Promise<Buffer | undefined> {
  const { rows } = await db.query<{ content: Buffer }>('SELECT content FROM attachment_blobs WHERE sha256 = $1', [
    sha256,
  ]);
  return rows[0]?.content;
}

/** Links stored attachments to an outgoing reply (same content, no copy). */
export async function attachToReply(
  db: Queryable,
  ticketId: string,
  ticketMessageId: string,
  sources: TicketAttachmentRow[],
): Promise<TicketAttachmentRow[]> {
  const out: TicketAttachmentRow[] = [];
  for (const s of sources) {
    const { rows } = await db.query<TicketAttachmentRow>(
      `INSERT INTO ticket_attachments (id, ticket_id, ticket_message_id, graph_attachment_id, name, content_type, size,
         is_inline, content_id, sha256, skipped_reason)
       VALUES ($1, $2, $3, NULL, $4, $5, $6, false, NULL, $7, NULL) RETURNING *`,
      [randomUUID(), ticketId, ticketMessageId, s.name, s.content_type, s.size, s.sha256],
    );
    out.push(rows[0]!);
  }
  return out;
}
