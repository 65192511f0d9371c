import { ResponseType } from '@microsoft/microsoft-graph-client';
import type { MailboxGraph } from './graph-client';
import { IMMUTABLE_IDS } from './messages';
import { StreamResponse } from './safe-transport';

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

/**
 * Where an attachment's content goes as it arrives (PostgreSQL, in the worker): it reads the
 * chunks it is given and returns what it stored. A chunk source that outgrows the limit throws
 * `AttachmentTooLargeError` from inside the iteration, which the sink lets pass.
 */
export type AttachmentSink<T> = (chunks: AsyncIterable<Uint8Array>) => Promise<T>;

/** What reading an attachment gave: what the sink stored, or the fact that it outgrew the limit. */
export type AttachmentContent<T> = { ok: true; stored: T } | { ok: false; reason: 'too_large'; seenBytes: number };

/** Thrown into the sink's iteration once the content passes the limit; the download is abandoned. */
export class AttachmentTooLargeError extends Error {
  override name = 'AttachmentTooLargeError';
  constructor(readonly seenBytes: number) {
    super(`attachment larger than the limit (${seenBytes} bytes seen)`);
  }
}

/** Graph's answer did not have the shape Graph documents: retrying will not change it. */
export class MalformedAttachmentError extends Error {
  override name = 'MalformedAttachmentError';
}

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

/** The chunks of a web stream, counted: past `maxBytes` the stream is cancelled (the socket closed). */
async function* capped(body: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > maxBytes) throw new AttachmentTooLargeError(total);
      yield value;
    }
  } finally {
    // Whether it ended, outgrew the limit or the sink failed: nothing more is read.
    await reader.cancel().catch(() => undefined);
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The sink's result, or too_large when the content passed the limit while it was reading. */
async function sinkOrTooLarge<T>(sink: AttachmentSink<T>, chunks: AsyncIterable<Uint8Array>) {
  try {
    return { ok: true, stored: await sink(chunks) } as const;
  } catch (err) {
    if (err instanceof AttachmentTooLargeError)
      return { ok: false, reason: 'too_large', seenBytes: err.seenBytes } as const;
    throw err;
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads one file attachment's content into `sink`: small and inline ones through their JSON
 * (contentBytes, contentId), large ones streamed from `/$value`, counted as they arrive and
 * abandoned once past `maxBytes`. The download and the sink run inside one Graph call, so the
 * mailbox's concurrency slot is held until the content is stored.
 */
export async function readAttachment<T>(
  g: MailboxGraph,
  messageId: string,
  meta: GraphAttachmentMeta,
  maxBytes: number,
  sink: AttachmentSink<T>,
): Promise<AttachmentContent<T>> {
  const path = attachmentPath(g, messageId, meta.id);
  // Graph's size includes some MIME overhead, so it is an upper bound of the content.
  if (meta.size !== undefined && meta.size > maxBytes * 1.5 + 4096) {
    return { ok: false, reason: 'too_large', seenBytes: meta.size };
  }
  // Inline parts are fetched as JSON as well: only that form carries the contentId the body refers to.
  if (meta.isInline || (meta.size ?? Infinity) <= INLINE_FETCH_MAX_BYTES) {
    const full = (await g.call((c) => c.api(path).header('Prefer', IMMUTABLE_IDS).get())) as {
      contentBytes?: unknown;
      contentId?: unknown;
    } | null;
    const encoded = full?.contentBytes ?? '';
    if (typeof encoded !== 'string' || !BASE64.test(encoded)) {
      throw new MalformedAttachmentError('Graph sent the attachment without valid base64 contentBytes');
    }
    if (typeof full?.contentId === 'string' || full?.contentId === null) meta.contentId = full.contentId;
    // Checked before decoding: base64 is 4 characters for every 3 bytes.
    if (Math.floor((encoded.length * 3) / 4) > maxBytes + 2) {
      const bytes = Buffer.byteLength(encoded, 'base64');
      if (bytes > maxBytes) return { ok: false, reason: 'too_large', seenBytes: bytes };
    }
    return sinkOrTooLarge(sink, once(Buffer.from(encoded, 'base64')));
  }
  return g.call(async (c) => {
    const body = (await c
      .api(`${path}/$value`)
      .header('Prefer', IMMUTABLE_IDS)
      .middlewareOptions([new StreamResponse()])
      .responseType(ResponseType.STREAM)
      .get()) as ReadableStream<Uint8Array> | null;
    return sinkOrTooLarge(sink, body ? capped(body, maxBytes) : once(new Uint8Array(0)));
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
