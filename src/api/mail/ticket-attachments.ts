import express, { type Router } from 'express';
import { z } from 'zod';
import { attachmentContent, getTicketAttachment, type TicketAttachmentRow } from '../../mail/db/attachments';
import type { Db } from '../../platform/db/pool';
import type { TicketRow } from '../../mail/db/tickets';
import { formatBytes } from '../../mail/format-bytes';
import { HttpError, parseOr400 } from '../errors';

// Raster images are safe to show in place; anything else (HTML, SVG, PDF…) is served as a download.
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp']);

export const contentUrl = (ticketId: string, attachmentId: string) =>
  `/api/v1/tickets/${ticketId}/attachments/${attachmentId}/content`;

export function presentAttachment(a: TicketAttachmentRow) {
  return {
    id: a.id,
    messageId: a.ticket_message_id,
    name: a.name,
    contentType: a.content_type,
    size: Number(a.size),
    inline: a.is_inline,
    contentId: a.content_id,
    stored: a.sha256 !== null,
    sha256: a.sha256,
    note: a.skipped_reason,
    url: a.sha256 ? contentUrl(a.ticket_id, a.id) : null,
    createdAt: a.created_at,
  };
}

/** The ticket's notes about attachments that were not stored, naming each and its size. */
export function attachmentNotes(rows: TicketAttachmentRow[]) {
  return rows
    .filter((a) => a.skipped_reason)
    .map((a) => ({
      kind: 'attachment_not_stored',
      attachmentId: a.id,
      messageId: a.ticket_message_id,
      text: `Attachment "${a.name}" (${formatBytes(Number(a.size))}) ${a.skipped_reason}`,
      createdAt: a.created_at,
    }));
}

/** A `cid:` URL's percent-decoded content id (RFC 2392), or null when its encoding is broken. */
export function decodeCid(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null; // `%ZZ`, or a UTF-8 sequence cut short: the sender's mistake, not ours to fail on
  }
}

/**
 * The body with `cid:` references to the message's inline parts pointing at their download URL.
 * A reference that does not decode, or names no stored part, is left as it is.
 */
export function rewriteCids(body: string, attachments: TicketAttachmentRow[]): string {
  const byCid = new Map<string, TicketAttachmentRow>();
  for (const a of attachments)
    if (a.content_id && a.sha256) byCid.set(a.content_id.replace(/^<|>$/g, '').toLowerCase(), a);
  if (byCid.size === 0) return body;
  return body.replace(/cid:([^"'\s)>]+)/gi, (whole, raw: string) => {
    const cid = decodeCid(raw);
    const a = cid === null ? undefined : byCid.get(cid.toLowerCase());
    return a ? contentUrl(a.ticket_id, a.id) : whole;
  });
}

const downloadQuery = z.object({ download: z.enum(['0', '1', 'true', 'false']).optional() }).strict();

/** `/tickets/:id/attachments/:attachmentId/content`: the stored bytes with their type and a safe disposition. */
export function ticketAttachmentsRouter(deps: { db: Db; load: (raw: string) => Promise<TicketRow> }): Router {
  const router = express.Router({ mergeParams: true });
  router.get('/:attachmentId/content', async (req, res) => {
    const ticket = await deps.load(String((req.params as Record<string, string>)['id']));
    const q = parseOr400(downloadQuery, req.query, 'query');
    const id = parseOr400(z.uuid(), req.params.attachmentId, 'attachment id');
    const a = await getTicketAttachment(deps.db, ticket.id, id);
    if (!a) throw new HttpError(404, 'attachment_not_found', `No attachment ${id} on this ticket`);
    if (!a.sha256)
      throw new HttpError(404, 'attachment_not_stored', `Attachment "${a.name}" ${a.skipped_reason ?? ''}`);
    const content = await attachmentContent(deps.db, a.sha256);
    if (!content) throw new HttpError(404, 'attachment_not_found', `The content of attachment ${id} is gone`);
    const type = a.content_type.toLowerCase().split(';')[0]!.trim();
    const inline = INLINE_TYPES.has(type) && q.download !== '1' && q.download !== 'true';
    const filename = a.name.replace(/[\r\n"\\]/g, '_');
    res.set({
      'Content-Type': INLINE_TYPES.has(type) ? type : a.content_type || 'application/octet-stream',
      'Content-Length': String(content.length),
      'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename="${filename.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(a.name)}`,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=3600',
      ETag: `"${a.sha256}"`,
    });
    res.end(content);
  });
  return router;
}
