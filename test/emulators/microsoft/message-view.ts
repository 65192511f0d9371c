import type { StoredAttachment, StoredMessage } from './mail-store';
import { fail, graphError, ok } from './replies';
import type { Outcome } from './replies';

/** Properties Graph returns for a message when no `$select` is given. */
const DEFAULT_PROPERTIES = [
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
] as const;

// Only returned when asked for by name: Graph leaves them out of the default projection.
const SELECT_ONLY = ['internetMessageHeaders', 'uniqueBody'] as const;
const CANONICAL = new Map<string, string>(
  ['id', ...DEFAULT_PROPERTIES, ...SELECT_ONLY].map((name) => [name.toLowerCase(), name]),
);

/** Parses `$select`; `null` means the default projection. */
export function parseSelect(raw: string | null): Outcome<string[] | null> {
  if (raw === null || raw.trim() === '') return ok(null);
  const names: string[] = [];
  for (const part of raw.split(',')) {
    const canonical = CANONICAL.get(part.trim().toLowerCase());
    if (!canonical) {
      return fail(
        graphError(
          400,
          'RequestBroker--ParseUri',
          `Could not find a property named '${part.trim()}' on type 'Microsoft.OutlookServices.Message'.`,
        ),
      );
    }
    names.push(canonical);
  }
  return ok(names);
}

/** The id a client sees, according to its `Prefer: IdType` header. */
export function messageId(message: StoredMessage, immutable: boolean): string {
  return immutable ? message.immutableId : message.restId;
}

/** Renders a message as Graph JSON with the requested projection and id format. */
export function renderMessage(
  message: StoredMessage,
  options: { select: string[] | null; immutable: boolean; baseUrl: string },
): Record<string, unknown> {
  const all: Record<string, unknown> = {
    createdDateTime: message.createdDateTime,
    lastModifiedDateTime: message.lastModifiedDateTime,
    changeKey: message.changeKey,
    categories: message.categories,
    receivedDateTime: message.receivedDateTime,
    sentDateTime: message.sentDateTime,
    hasAttachments: message.attachments.some((attachment) => !attachment.isInline),
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    bodyPreview: preview(message.body.content, message.body.contentType),
    importance: message.importance,
    parentFolderId: message.folderId,
    conversationId: message.conversationId,
    conversationIndex: message.conversationIndex,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: message.isRead,
    isDraft: message.isDraft,
    webLink: `${options.baseUrl}/owa/?ItemID=${encodeURIComponent(message.restId)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    body: message.body,
    sender: message.from,
    from: message.from,
    toRecipients: message.toRecipients,
    ccRecipients: message.ccRecipients,
    bccRecipients: message.bccRecipients,
    replyTo: message.replyTo,
    flag: message.flag,
    internetMessageHeaders: message.internetMessageHeaders,
    uniqueBody: message.uniqueBody,
  };
  const names = options.select ?? DEFAULT_PROPERTIES;
  const rendered: Record<string, unknown> = {
    '@odata.etag': `W/"${message.changeKey}"`,
    id: messageId(message, options.immutable),
  };
  for (const name of names) if (name !== 'id') rendered[name] = all[name];
  return rendered;
}

/** Renders a file attachment, with or without its bytes. */
const ATTACHMENT_PROPERTIES = ['id', 'lastModifiedDateTime', 'name', 'contentType', 'size', 'isInline'];
// fileAttachment-only properties are selectable with the type cast, as in Graph.
const FILE_ATTACHMENT_PROPERTIES = ['contentId', 'contentLocation', 'contentBytes'];

/** Parses an attachments `$select`; null selects everything. */
export function parseAttachmentSelect(raw: string | null): Outcome<string[] | null> {
  if (raw === null || raw.trim() === '') return ok(null);
  const names: string[] = [];
  for (const part of raw.split(',').map((p) => p.trim())) {
    const bare = part.replace(/^microsoft\.graph\.fileAttachment\//i, '');
    const known =
      ATTACHMENT_PROPERTIES.find((p) => p.toLowerCase() === part.toLowerCase()) ??
      (bare !== part ? FILE_ATTACHMENT_PROPERTIES.find((p) => p.toLowerCase() === bare.toLowerCase()) : undefined);
    if (!known) {
      return fail(
        graphError(
          400,
          'RequestBroker--ParseUri',
          `Could not find a property named '${part}' on type 'microsoft.graph.attachment'.`,
        ),
      );
    }
    names.push(known);
  }
  return ok(names);
}

export function renderAttachment(
  attachment: StoredAttachment,
  withContent = true,
  select: string[] | null = null,
): Record<string, unknown> {
  const full = renderAttachmentFull(attachment, withContent);
  if (!select) return full;
  return Object.fromEntries(
    Object.entries(full).filter(([k]) => k.startsWith('@odata') || k === 'id' || select.includes(k)),
  );
}

function renderAttachmentFull(attachment: StoredAttachment, withContent: boolean): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': attachment.contentType,
    id: attachment.id,
    lastModifiedDateTime: attachment.lastModifiedDateTime,
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.size,
    isInline: attachment.isInline,
    contentId: attachment.contentId,
    contentLocation: null,
    ...(withContent ? { contentBytes: attachment.contentBytes } : {}),
  };
}

function preview(content: string, contentType: 'text' | 'html'): string {
  const text = contentType === 'html' ? content.replace(/<[^>]*>/g, ' ') : content;
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}
