import type { MailboxGraph } from './graph-client';
import type { MailHeader } from '../threading';

/** Immutable ids survive folder moves, so a message keeps one id from notification to mark-as-read. */
export const IMMUTABLE_IDS = 'IdType="ImmutableId"';

// Headers and uniqueBody only come back when asked for by name.
const MESSAGE_SELECT = [
  'id',
  'internetMessageId',
  'conversationId',
  'internetMessageHeaders',
  'from',
  'toRecipients',
  'ccRecipients',
  'subject',
  'body',
  'uniqueBody',
  'hasAttachments',
  'receivedDateTime',
];

// Delta only needs enough to log an email before its own workflow fetches the rest.
const DELTA_SELECT = ['id', 'internetMessageId', 'subject', 'from', 'receivedDateTime'];
const DELTA_PAGE_SIZE = 50;

export interface GraphAddress {
  emailAddress?: { name?: string; address?: string };
}

export interface GraphMessage {
  id: string;
  internetMessageId?: string;
  conversationId?: string;
  internetMessageHeaders?: MailHeader[];
  from?: GraphAddress;
  toRecipients?: GraphAddress[];
  ccRecipients?: GraphAddress[];
  subject?: string;
  body?: { contentType?: string; content?: string };
  uniqueBody?: { contentType?: string; content?: string };
  hasAttachments?: boolean;
  receivedDateTime?: string;
  '@removed'?: { reason?: string };
}

export async function getMessage(g: MailboxGraph, id: string): Promise<GraphMessage> {
  return g.call((c) =>
    c
      .api(`${g.userPath}/messages/${encodeURIComponent(id)}`)
      .header('Prefer', IMMUTABLE_IDS)
      .select(MESSAGE_SELECT)
      .get(),
  ) as Promise<GraphMessage>;
}

export async function markRead(g: MailboxGraph, id: string): Promise<void> {
  await g.call((c) =>
    c
      .api(`${g.userPath}/messages/${encodeURIComponent(id)}`)
      .header('Prefer', IMMUTABLE_IDS)
      .patch({ isRead: true }),
  );
}

export async function moveMessage(g: MailboxGraph, id: string, folder: string): Promise<void> {
  await g.call((c) =>
    c
      .api(`${g.userPath}/messages/${encodeURIComponent(id)}/move`)
      .header('Prefer', IMMUTABLE_IDS)
      .post({ destinationId: folder }),
  );
}

export interface DeltaPage {
  items: GraphMessage[];
  nextLink: string | null;
  deltaLink: string | null;
}

/** One page of the inbox delta: from the start when `link` is null, else from a next or delta link. */
export async function deltaPage(g: MailboxGraph, link: string | null): Promise<DeltaPage> {
  const prefer = `${IMMUTABLE_IDS}, odata.maxpagesize=${DELTA_PAGE_SIZE}`;
  const page = (await g.call((c) =>
    link
      ? c.api(link).header('Prefer', prefer).get()
      : c.api(`${g.userPath}/mailFolders/inbox/messages/delta`).header('Prefer', prefer).select(DELTA_SELECT).get(),
  )) as { value?: GraphMessage[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
  return {
    items: page.value ?? [],
    nextLink: page['@odata.nextLink'] ?? null,
    deltaLink: page['@odata.deltaLink'] ?? null,
  };
}

/** An email we send: HTML body, recipients, and X- headers marking it as ours. */
export interface OutgoingMail {
  subject: string;
  html: string;
  to: string[];
  cc?: string[];
  headers: MailHeader[];
  /** Graph fileAttachment resources (see attachments.ts `toGraphAttachment`). */
  attachments?: Array<Record<string, unknown>>;
}

const recipients = (addresses: string[]) => addresses.map((address) => ({ emailAddress: { address } }));

export async function sendMail(g: MailboxGraph, mail: OutgoingMail): Promise<void> {
  await g.call((c) =>
    c.api(`${g.userPath}/sendMail`).post({
      message: {
        subject: mail.subject,
        body: { contentType: 'HTML', content: mail.html },
        toRecipients: recipients(mail.to),
        ...(mail.cc?.length ? { ccRecipients: recipients(mail.cc) } : {}),
        internetMessageHeaders: mail.headers,
        ...(mail.attachments?.length ? { attachments: mail.attachments } : {}),
      },
      saveToSentItems: true,
    }),
  );
}

/** Replies to a received message, so Exchange sets In-Reply-To and References for the customer. */
export async function replyTo(g: MailboxGraph, messageId: string, mail: Omit<OutgoingMail, 'to'>): Promise<void> {
  await g.call((c) =>
    c
      .api(`${g.userPath}/messages/${encodeURIComponent(messageId)}/reply`)
      .header('Prefer', IMMUTABLE_IDS)
      .post({
        comment: mail.html,
        message: {
          subject: mail.subject,
          internetMessageHeaders: mail.headers,
          ...(mail.attachments?.length ? { attachments: mail.attachments } : {}),
        },
      }),
  );
}

/** Plain address of a Graph recipient, lower-cased. */
export function addressOf(r: GraphAddress | undefined): string | null {
  return r?.emailAddress?.address?.toLowerCase() ?? null;
}
