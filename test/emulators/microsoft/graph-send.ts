import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { findMessage } from './graph-context';
import type { MailboxContext } from './graph-context';
import type { DirectoryUser } from './directory';
import { outlookId, toStoredAttachment } from './mail-store';
import type { FolderManaged, InternetMessageHeader, Recipient, StoredMessage } from './mail-store';
import { graphError, invalidBody } from './replies';
import type { HttpReply } from './replies';

const recipientSchema = z.object({
  emailAddress: z.object({ address: z.string().min(1), name: z.string().optional() }),
});

// Graph's message type is large; validate what the emulator uses and let the rest through.
const outgoingMessage = z.looseObject({
  subject: z.string().optional(),
  body: z.object({ contentType: z.string(), content: z.string() }).optional(),
  toRecipients: z.array(recipientSchema).optional(),
  ccRecipients: z.array(recipientSchema).optional(),
  bccRecipients: z.array(recipientSchema).optional(),
  replyTo: z.array(recipientSchema).optional(),
  internetMessageHeaders: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  importance: z.enum(['low', 'normal', 'high']).optional(),
  attachments: z
    .array(
      z.looseObject({
        '@odata.type': z.literal('#microsoft.graph.fileAttachment'),
        name: z.string().min(1),
        contentBytes: z.base64(),
        contentType: z.string().optional(),
        isInline: z.boolean().optional(),
        contentId: z.string().optional(),
      }),
    )
    .optional(),
});

type OutgoingMessage = z.infer<typeof outgoingMessage>;

const sendMailBody = z.strictObject({ message: outgoingMessage, saveToSentItems: z.boolean().optional() });
const replyBody = z.strictObject({ comment: z.string().optional(), message: outgoingMessage.optional() });

/** POST /users/{id}/sendMail → 202, recorded in `sentMail()` and (by default) filed in Sent Items. */
export function sendMail(ctx: MailboxContext): HttpReply {
  const parsed = sendMailBody.safeParse(ctx.req.body);
  if (!parsed.success) return invalidBody(parsed.error, 'message');
  const { message, saveToSentItems = true } = parsed.data;
  const rejected = checkOutgoing(message);
  if (rejected) return rejected;
  const stored = compose(ctx.user, message, { conversationId: outlookId('AAQkAD', '='), headers: [] });
  ctx.deps.sentMail.push({
    id: randomUUID(),
    kind: 'sendMail',
    fromUserId: ctx.user.id,
    from: ctx.user.mail,
    message,
    saveToSentItems,
    sentAt: new Date().toISOString(),
  });
  if (saveToSentItems) ctx.deps.store.saveSent(ctx.user, stored);
  return { status: 202 };
}

/** POST /users/{id}/messages/{id}/reply → 202; the reply threads onto the original (In-Reply-To, References). */
export function replyToMessage(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const found = findMessage(ctx, params);
  if (!found.ok) return found.reply;
  const parsed = replyBody.safeParse(ctx.req.body ?? {});
  if (!parsed.success) return invalidBody(parsed.error, 'message');
  const original = found.value;
  const overrides = parsed.data.message ?? {};
  const rejected = checkOutgoing({ toRecipients: [original.from], ...overrides });
  if (rejected) return rejected;
  const references = [
    ...(original.internetMessageHeaders.find((h) => h.name.toLowerCase() === 'references')?.value.split(/\s+/) ?? []),
    original.internetMessageId,
  ];
  const reply: OutgoingMessage = {
    subject: /^re:/i.test(original.subject) ? original.subject : `RE: ${original.subject}`,
    toRecipients: original.replyTo.length > 0 ? original.replyTo : [original.from],
    ...overrides,
    body: {
      contentType: 'html',
      content: `${parsed.data.comment ?? overrides.body?.content ?? ''}<hr><div>${original.body.content}</div>`,
    },
  };
  const stored = compose(ctx.user, reply, {
    conversationId: original.conversationId,
    headers: [
      { name: 'In-Reply-To', value: original.internetMessageId },
      { name: 'References', value: references.join(' ') },
    ],
  });
  ctx.deps.sentMail.push({
    id: randomUUID(),
    kind: 'reply',
    fromUserId: ctx.user.id,
    from: ctx.user.mail,
    message: {
      ...reply,
      internetMessageId: stored.internetMessageId,
      conversationId: stored.conversationId,
      internetMessageHeaders: stored.internetMessageHeaders,
    },
    saveToSentItems: true,
    sentAt: new Date().toISOString(),
    inReplyTo: { messageId: original.immutableId, internetMessageId: original.internetMessageId },
  });
  ctx.deps.store.saveSent(ctx.user, stored);
  return { status: 202 };
}

function checkOutgoing(message: OutgoingMessage): HttpReply | null {
  const recipients = [
    ...(message.toRecipients ?? []),
    ...(message.ccRecipients ?? []),
    ...(message.bccRecipients ?? []),
  ];
  if (recipients.length === 0) {
    return graphError(
      400,
      'ErrorInvalidRecipients',
      "At least one recipient is not valid., A message can't be sent because it contains no recipients.",
    );
  }
  // Graph only lets clients set custom X- headers; threading headers are Exchange's job.
  const forbidden = (message.internetMessageHeaders ?? []).find((header) => !/^x-/i.test(header.name));
  if (forbidden) {
    return graphError(
      400,
      'InvalidInternetMessageHeader',
      `The internet message header name '${forbidden.name}' should start with 'x-' or 'X-'.`,
    );
  }
  return null;
}

function compose(
  user: DirectoryUser,
  message: OutgoingMessage,
  thread: { conversationId: string; headers: InternetMessageHeader[] },
): Omit<StoredMessage, FolderManaged> {
  const now = new Date().toISOString();
  const from: Recipient = { emailAddress: { name: user.displayName, address: user.mail } };
  const internetMessageId = `<${randomUUID()}@${user.mail.split('@')[1] ?? 'emulator.invalid'}>`;
  const contentType = message.body?.contentType.toLowerCase() === 'html' ? 'html' : 'text';
  const body = { contentType, content: message.body?.content ?? '' } as const;
  const toRecipient = (r: z.infer<typeof recipientSchema>): Recipient => ({
    emailAddress: { name: r.emailAddress.name ?? r.emailAddress.address, address: r.emailAddress.address },
  });
  return {
    internetMessageId,
    conversationId: thread.conversationId,
    subject: message.subject ?? '',
    body,
    uniqueBody: body,
    from,
    toRecipients: (message.toRecipients ?? []).map(toRecipient),
    ccRecipients: (message.ccRecipients ?? []).map(toRecipient),
    bccRecipients: (message.bccRecipients ?? []).map(toRecipient),
    replyTo: (message.replyTo ?? []).map(toRecipient),
    internetMessageHeaders: [
      { name: 'Message-ID', value: internetMessageId },
      ...thread.headers,
      ...(message.internetMessageHeaders ?? []),
    ],
    receivedDateTime: now,
    sentDateTime: now,
    isRead: true,
    isDraft: false,
    importance: message.importance ?? 'normal',
    attachments: (message.attachments ?? []).map((a) =>
      toStoredAttachment({
        name: a.name,
        content: Buffer.from(a.contentBytes, 'base64'),
        ...(a.contentType ? { contentType: a.contentType } : {}),
        ...(a.isInline !== undefined ? { isInline: a.isInline } : {}),
        ...(a.contentId ? { contentId: a.contentId } : {}),
      }),
    ),
  };
}
