import { ResponseType } from '@microsoft/microsoft-graph-client';
import type { MailboxGraph } from './graph-client';
import { IMMUTABLE_IDS } from './messages';

/** An attachment as listed, without its content. */
export interface GraphAttachmentMeta {
  id: string;
  '@odata.type'?: string;
  name?: string;
  contentType?: string;
  size?: number;
  isInline?: boolean;
  contentId?: string | null;
}

/** What reading an attachment's content gave: the bytes, or the fact that it outgrew the limit. */
export type AttachmentContent = { ok: true; bytes: Buffer } | { ok: false; reason: 'too_large'; seenBytes: number };

// Listing without contentBytes keeps the list small however large the attachments are.
const META_SELECT = ['id', 'name', 'contentType', 'size', 'isInline'];
// Below this, the attachment's JSON (base64 contentBytes) is one small request; above, `$value` is streamed.
export const INLINE_FETCH_MAX_BYTES = 1024 * 1024;

const FILE_ATTACHMENT = '#microsoft.graph.fileAttachment';

export const isFileAttachment = (a: GraphAttachmentMeta) => (a['@odata.type'] ?? FILE_ATTACHMENT) === FILE_ATTACHMENT;

const attachmentPath = (g: MailboxGraph, messageId: string, attachmentId?: string) =>
  `${g.userPath}/messages/${encodeURIComponent(messageId)}/attachments${attachmentId ? `/${encodeURIComponent(attachmentId)}` : ''}`;

/** Every attachment of a message (file, item and reference ones), metadata only. */
export async function listAttachments(g: MailboxGraph, messageId: string): Promise<GraphAttachmentMeta[]> {
  const out: GraphAttachmentMeta[] = [];
  let link: string | null = null;
  do {
    const page = (await g.call((c) =>
      link
        ? c.api(link).header('Prefer', IMMUTABLE_IDS).get()
        : c.api(attachmentPath(g, messageId)).header('Prefer', IMMUTABLE_IDS).select(META_SELECT).get(),
    )) as { value?: GraphAttachmentMeta[]; '@odata.nextLink'?: string };
    out.push(...(page.value ?? []));
    link = page['@odata.nextLink'] ?? null;
  } while (link);
  return out;
}

/**
 * Reads one file attachment's content: small and inline ones through their JSON (contentBytes,
 * contentId), large ones streamed from `/$value` and abandoned once past `maxBytes`.
 */
export async function readAttachment(
  g: MailboxGraph,
  messageId: string,
  meta: GraphAttachmentMeta,
  maxBytes: number,
): Promise<AttachmentContent> {
  const path = attachmentPath(g, messageId, meta.id);
  // Graph's size includes some MIME overhead, so it is an upper bound of the content.
  if (meta.size !== undefined && meta.size > maxBytes * 1.5 + 4096) {
    return { ok: false, reason: 'too_large', seenBytes: meta.size };
  }
  // Inline parts are fetched as JSON as well: only that form carries the contentId the body refers to.
  if (meta.isInline || (meta.size ?? Infinity) <= INLINE_FETCH_MAX_BYTES) {
    const full = (await g.call((c) => c.api(path).header('Prefer', IMMUTABLE_IDS).get())) as {
      contentBytes?: string;
      contentId?: string | null;
    };
    const bytes = Buffer.from(full.contentBytes ?? '', 'base64');
    if (full.contentId !== undefined) meta.contentId = full.contentId;
    return bytes.length > maxBytes ? { ok: false, reason: 'too_large', seenBytes: bytes.length } : { ok: true, bytes };
  }
  return g.call(async (c) => {
    const body = (await c
      .api(`${path}/$value`)
      .header('Prefer', IMMUTABLE_IDS)
      .responseType(ResponseType.STREAM)
      .get()) as ReadableStream<Uint8Array> | null;
    if (!body) return { ok: true, bytes: Buffer.alloc(0) };
    const reader = body.getReader();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, reason: 'too_large', seenBytes: total } as const;
      }
      chunks.push(Buffer.from(value));
    }
    return { ok: true, bytes: Buffer.concat(chunks) } as const;
  });
}

/** An attachment to send with a reply, as Graph's message resource takes it. */
export interface OutgoingAttachment {
  name: string;
  contentType: string;
  content: Buffer;
  isInline?: boolean;
  contentId?: string | null;
}

export function toGraphAttachment(a: OutgoingAttachment): Record<string, unknown> {
  return {
    '@odata.type': FILE_ATTACHMENT,
    name: a.name,
    contentType: a.contentType,
    contentBytes: a.content.toString('base64'),
    isInline: a.isInline ?? false,
    ...(a.contentId ? { contentId: a.contentId } : {}),
  };
}
