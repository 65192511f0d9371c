import { z } from 'zod';
import { messagesDelta } from './graph-delta';
import { findMessage, preferenceApplied } from './graph-context';
import type { GraphRoute, MailboxContext } from './graph-context';
import { sendMail, replyToMessage } from './graph-send';
import type { StoredMessage } from './mail-store';
import { parseListQuery } from './message-query';
import { parseAttachmentSelect, parseSelect, renderAttachment, renderMessage } from './message-view';
import { graphError, invalidBody } from './replies';
import type { HttpReply } from './replies';

const patchBody = z.strictObject({
  isRead: z.boolean().optional(),
  categories: z.array(z.string()).optional(),
  importance: z.enum(['low', 'normal', 'high']).optional(),
  flag: z.object({ flagStatus: z.enum(['notFlagged', 'flagged', 'complete']) }).optional(),
});

const moveBody = z.strictObject({ destinationId: z.string().min(1) });

/** Message, folder and attachment endpoints under `/users/{id}` and `/me`. */
export const mailRoutes: GraphRoute[] = [
  { method: 'GET', pattern: '', mailbox: true, access: 'profile', handle: getUser },
  { method: 'GET', pattern: 'messages', mailbox: true, access: 'read', handle: (ctx) => listMessages(ctx, undefined) },
  { method: 'GET', pattern: 'mailFolders', mailbox: true, access: 'read', handle: listFolders },
  { method: 'GET', pattern: 'mailFolders/:folder', mailbox: true, access: 'read', handle: getFolder },
  {
    method: 'GET',
    pattern: 'mailFolders/:folder/messages',
    mailbox: true,
    access: 'read',
    handle: (ctx, params) => listMessages(ctx, params['folder']),
  },
  {
    method: 'GET',
    pattern: 'mailFolders/:folder/messages/delta',
    mailbox: true,
    access: 'read',
    handle: messagesDelta,
  },
  { method: 'GET', pattern: 'mailFolders/:folder/messages/:id', mailbox: true, access: 'read', handle: getMessage },
  { method: 'GET', pattern: 'messages/:id', mailbox: true, access: 'read', handle: getMessage },
  { method: 'PATCH', pattern: 'messages/:id', mailbox: true, access: 'write', handle: patchMessage },
  { method: 'DELETE', pattern: 'messages/:id', mailbox: true, access: 'write', handle: deleteMessage },
  { method: 'POST', pattern: 'messages/:id/move', mailbox: true, access: 'write', handle: moveMessage },
  { method: 'GET', pattern: 'messages/:id/attachments', mailbox: true, access: 'read', handle: listAttachments },
  {
    method: 'GET',
    pattern: 'messages/:id/attachments/:attachmentId',
    mailbox: true,
    access: 'read',
    handle: getAttachment,
  },
  {
    method: 'GET',
    pattern: 'messages/:id/attachments/:attachmentId/$value',
    mailbox: true,
    access: 'read',
    handle: getAttachmentValue,
  },
  { method: 'POST', pattern: 'messages/:id/reply', mailbox: true, access: 'send', handle: replyToMessage },
  { method: 'POST', pattern: 'sendMail', mailbox: true, access: 'send', handle: sendMail },
];

function getUser(ctx: MailboxContext): HttpReply {
  const { user } = ctx;
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.deps.baseUrl()}/v1.0/$metadata#users/$entity`,
      id: user.id,
      displayName: user.displayName,
      mail: user.mail,
      userPrincipalName: user.userPrincipalName,
    },
  };
}

function listFolders(ctx: MailboxContext): HttpReply {
  return {
    status: 200,
    body: { value: [...ctx.mailbox.folders.values()].map((folder) => renderFolder(ctx, folder.id)) },
  };
}

function getFolder(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const folder = ctx.deps.store.folder(ctx.mailbox, params['folder'] ?? '');
  if (!folder) return folderNotFound();
  return { status: 200, body: renderFolder(ctx, folder.id) };
}

function renderFolder(ctx: MailboxContext, folderId: string): Record<string, unknown> {
  const folder = ctx.mailbox.folders.get(folderId);
  const messages = ctx.deps.store.list(ctx.mailbox, folderId);
  return {
    id: folderId,
    displayName: folder?.displayName,
    parentFolderId: null,
    childFolderCount: 0,
    unreadItemCount: messages.filter((message) => !message.isRead).length,
    totalItemCount: messages.length,
    isHidden: false,
  };
}

function listMessages(ctx: MailboxContext, folderSegment: string | undefined): HttpReply {
  const { deps, mailbox, query } = ctx;
  const folder = folderSegment === undefined ? undefined : deps.store.folder(mailbox, folderSegment);
  if (folderSegment !== undefined && !folder) return folderNotFound();
  const select = parseSelect(query.get('$select'));
  if (!select.ok) return select.reply;
  const options = parseListQuery(query);
  if (!options.ok) return options.reply;
  const { filter, compare, top, skip } = options.value;
  const matching = deps.store.list(mailbox, folder?.id).filter(filter).sort(compare);
  const page = matching.slice(skip, skip + top);
  const body: Record<string, unknown> = {
    '@odata.context': `${deps.baseUrl()}/v1.0/$metadata#users('${encodeURIComponent(mailbox.user.id)}')/messages`,
    value: page.map((message) =>
      renderMessage(message, { select: select.value, immutable: ctx.prefer.immutableIds, baseUrl: deps.baseUrl() }),
    ),
  };
  if (skip + top < matching.length) {
    // Graph writes `$skip=10` literally and percent-encodes values (spaces as %20), not form-encoding.
    const next = new Map(query);
    next.set('$skip', String(skip + top));
    next.set('$top', String(top));
    const search = [...next].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
    const path = folderSegment === undefined ? 'messages' : `mailFolders/${encodeURIComponent(folderSegment)}/messages`;
    body['@odata.nextLink'] = `${deps.baseUrl()}/v1.0/${ctx.prefix}/${path}?${search}`;
  }
  return { status: 200, body, headers: preferenceApplied(ctx.prefer, false) };
}

function getMessage(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findMessage(ctx, params);
  if (!found.ok) return found.reply;
  const select = parseSelect(ctx.query.get('$select'));
  if (!select.ok) return select.reply;
  return messageReply(ctx, found.value, 200, select.value);
}

function patchMessage(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findMessage(ctx, params);
  if (!found.ok) return found.reply;
  const parsed = patchBody.safeParse(ctx.req.body);
  if (!parsed.success) return invalidBody(parsed.error, 'message');
  const patch = Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined));
  ctx.deps.store.update(found.value, patch);
  return messageReply(ctx, found.value, 200, null);
}

// Outlook's DELETE moves the item to Deleted Items; it is not gone for good.
function deleteMessage(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findMessage(ctx, params);
  if (!found.ok) return found.reply;
  const bin = ctx.deps.store.folder(ctx.mailbox, 'deleteditems');
  if (bin && found.value.folderId !== bin.id) ctx.deps.store.move(ctx.mailbox, found.value, bin);
  return { status: 204 };
}

function moveMessage(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findMessage(ctx, params);
  if (!found.ok) return found.reply;
  const parsed = moveBody.safeParse(ctx.req.body);
  if (!parsed.success) return invalidBody(parsed.error, 'move');
  const destination = ctx.deps.store.folder(ctx.mailbox, parsed.data.destinationId);
  if (!destination) return folderNotFound();
  if (destination.id !== found.value.folderId) ctx.deps.store.move(ctx.mailbox, found.value, destination);
  return messageReply(ctx, found.value, 201, null);
}

function listAttachments(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findMessage(ctx, params);
  if (!found.ok) return found.reply;
  const select = parseAttachmentSelect(ctx.query.get('$select'));
  if (!select.ok) return select.reply;
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.deps.baseUrl()}/v1.0/$metadata#users('${ctx.mailbox.user.id}')/messages('${params['id']}')/attachments`,
      value: found.value.attachments.map((attachment) => renderAttachment(attachment, true, select.value)),
    },
  };
}

function findAttachment(ctx: MailboxContext, params: Record<string, string>) {
  const found = findMessage(ctx, params);
  if (!found.ok) return found;
  const attachment = found.value.attachments.find((candidate) => candidate.id === params['attachmentId']);
  if (!attachment) {
    return {
      ok: false as const,
      reply: graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
    };
  }
  return { ok: true as const, value: attachment };
}

function getAttachment(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findAttachment(ctx, params);
  if (!found.ok) return found.reply;
  const select = parseAttachmentSelect(ctx.query.get('$select'));
  if (!select.ok) return select.reply;
  return { status: 200, body: renderAttachment(found.value, true, select.value) };
}

/** GET …/attachments/{id}/$value: the raw content, streamed, with the attachment's content type. */
function getAttachmentValue(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findAttachment(ctx, params);
  if (!found.ok) return found.reply;
  return {
    status: 200,
    raw: Buffer.from(found.value.contentBytes, 'base64'),
    headers: { 'Content-Type': found.value.contentType },
  };
}

function messageReply(ctx: MailboxContext, message: StoredMessage, status: number, select: string[] | null): HttpReply {
  const base = ctx.deps.baseUrl();
  return {
    status,
    body: {
      '@odata.context': `${base}/v1.0/$metadata#users('${encodeURIComponent(ctx.mailbox.user.id)}')/messages/$entity`,
      ...renderMessage(message, { select, immutable: ctx.prefer.immutableIds, baseUrl: base }),
    },
    headers: preferenceApplied(ctx.prefer, false),
  };
}

function folderNotFound(): HttpReply {
  return graphError(404, 'ErrorItemNotFound', 'The specified folder could not be found in the store.');
}
