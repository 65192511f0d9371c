import { randomBytes, randomUUID } from 'node:crypto';
import type { DirectoryUser } from './directory';

export interface EmailAddress {
  name: string;
  address: string;
}

export interface Recipient {
  emailAddress: EmailAddress;
}

export interface InternetMessageHeader {
  name: string;
  value: string;
}

/** An attachment given to `deliverMessage`; `content` is raw bytes or text. */
export interface AttachmentInput {
  name: string;
  content: string | Buffer;
  contentType?: string;
  isInline?: boolean;
  contentId?: string;
}

/** An inbound email as a test describes it; everything but sender, subject and body has a realistic default. */
export interface DeliverMessageInput {
  from: string | EmailAddress;
  subject: string;
  body: string;
  bodyType?: 'text' | 'html';
  /** The part of the body new to this thread; defaults to the whole body. */
  uniqueBody?: string;
  to?: Array<string | EmailAddress>;
  cc?: Array<string | EmailAddress>;
  /** Extra transport headers (Auto-Submitted, X-Autoreply, Precedence...), surfaced in internetMessageHeaders. */
  headers?: Record<string, string> | InternetMessageHeader[];
  internetMessageId?: string;
  inReplyTo?: string;
  references?: string | string[];
  /** Defaults to the conversation of a referenced message in this mailbox, else a new one. */
  conversationId?: string;
  receivedDateTime?: string | Date;
  isRead?: boolean;
  importance?: 'low' | 'normal' | 'high';
  attachments?: AttachmentInput[];
  /** Folder id or well-known name; defaults to the inbox. */
  folder?: string;
}

export interface StoredAttachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  contentBytes: string;
  lastModifiedDateTime: string;
}

export interface StoredMessage {
  immutableId: string;
  /** Outlook's default (REST) id, which changes when the message moves folder. */
  restId: string;
  folderId: string;
  mailboxUserId: string;
  internetMessageId: string;
  conversationId: string;
  conversationIndex: string;
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  uniqueBody: { contentType: 'text' | 'html'; content: string };
  from: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  internetMessageHeaders: InternetMessageHeader[];
  receivedDateTime: string;
  sentDateTime: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  isRead: boolean;
  isDraft: boolean;
  importance: 'low' | 'normal' | 'high';
  categories: string[];
  flag: { flagStatus: string };
  attachments: StoredAttachment[];
  changeKey: string;
  /** Store-wide change counter value at this message's last change; drives delta queries. */
  version: number;
}

export interface MailFolder {
  id: string;
  displayName: string;
  wellKnownName: string;
}

/** A change the notifier turns into change notifications. */
export type MailChange =
  | { kind: 'created' | 'updated'; message: StoredMessage; folderId: string }
  | { kind: 'moved'; message: StoredMessage; fromFolderId: string; folderId: string; previousRestId: string };

/** Records that a message left a folder, so delta can report it as `@removed`. */
export interface Tombstone {
  folderId: string;
  immutableId: string;
  restId: string;
  version: number;
}

/** One user's mailbox: folders, messages and the record of what left each folder. */
export interface Mailbox {
  user: DirectoryUser;
  folders: Map<string, MailFolder>;
  messages: Map<string, StoredMessage>;
  restIndex: Map<string, string>;
  tombstones: Tombstone[];
}

/** A delta entry: a message now in the folder, or one that left it since the token. */
export type DeltaEntry = { kind: 'present'; message: StoredMessage } | { kind: 'removed'; tombstone: Tombstone };

const WELL_KNOWN_FOLDERS: Array<[string, string]> = [
  ['inbox', 'Inbox'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['drafts', 'Drafts'],
  ['archive', 'Archive'],
  ['junkemail', 'Junk Email'],
];

/** Mailboxes keyed by user id, with a store-wide version counter for delta queries. */
export class MailStore {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly listeners: Array<(change: MailChange) => void> = [];
  private version = 0;

  get currentVersion(): number {
    return this.version;
  }

  onChange(listener: (change: MailChange) => void): void {
    this.listeners.push(listener);
  }

  mailbox(user: DirectoryUser): Mailbox {
    const existing = this.mailboxes.get(user.id);
    if (existing) return existing;
    const folders = new Map<string, MailFolder>();
    for (const [wellKnownName, displayName] of WELL_KNOWN_FOLDERS) {
      const id = outlookId('AAMkAD', 'AAA=');
      folders.set(id, { id, displayName, wellKnownName });
    }
    const created: Mailbox = { user, folders, messages: new Map(), restIndex: new Map(), tombstones: [] };
    this.mailboxes.set(user.id, created);
    return created;
  }

  /** Resolves a folder by id or well-known name (`inbox`, `sentitems`, `deleteditems`, `archive`...). */
  folder(mailbox: Mailbox, idOrName: string): MailFolder | undefined {
    const lower = idOrName.toLowerCase();
    for (const folder of mailbox.folders.values()) {
      if (folder.id === idOrName || folder.wellKnownName === lower) return folder;
    }
    return undefined;
  }

  /** Finds a message by immutable or REST id; Graph accepts either format whatever the Prefer header says. */
  find(mailbox: Mailbox, id: string): StoredMessage | undefined {
    return mailbox.messages.get(id) ?? mailbox.messages.get(mailbox.restIndex.get(id) ?? '');
  }

  list(mailbox: Mailbox, folderId?: string): StoredMessage[] {
    const all = [...mailbox.messages.values()];
    return folderId === undefined ? all : all.filter((message) => message.folderId === folderId);
  }

  deliver(user: DirectoryUser, input: DeliverMessageInput): StoredMessage {
    const mailbox = this.mailbox(user);
    const folder = this.folder(mailbox, input.folder ?? 'inbox');
    if (!folder) throw new Error(`unknown folder ${input.folder ?? 'inbox'} in mailbox ${user.mail}`);
    const received = input.receivedDateTime ? new Date(input.receivedDateTime).toISOString() : new Date().toISOString();
    const from = recipient(input.from);
    const to = (input.to ?? [user.mail]).map(recipient);
    const cc = (input.cc ?? []).map(recipient);
    const references = typeof input.references === 'string' ? input.references.split(/\s+/) : (input.references ?? []);
    const internetMessageId = input.internetMessageId ?? `<${randomUUID()}@${from.emailAddress.address.split('@')[1]}>`;
    const thread = [...references, ...(input.inReplyTo ? [input.inReplyTo] : [])];
    const bodyType = input.bodyType ?? 'text';
    const headers: InternetMessageHeader[] = [
      {
        name: 'Received',
        value: `from mail.example.invalid by emulator.outlook.invalid; ${new Date(received).toUTCString()}`,
      },
      { name: 'From', value: formatAddress(from.emailAddress) },
      { name: 'To', value: to.map((r) => formatAddress(r.emailAddress)).join(', ') },
      { name: 'Subject', value: input.subject },
      { name: 'Date', value: new Date(received).toUTCString() },
      { name: 'Message-ID', value: internetMessageId },
      ...(input.inReplyTo ? [{ name: 'In-Reply-To', value: input.inReplyTo }] : []),
      ...(references.length > 0 ? [{ name: 'References', value: references.join(' ') }] : []),
      { name: 'MIME-Version', value: '1.0' },
      {
        name: 'Content-Type',
        value: bodyType === 'html' ? 'text/html; charset="utf-8"' : 'text/plain; charset="utf-8"',
      },
      ...normaliseHeaders(input.headers),
    ];
    return this.insert(mailbox, folder, {
      internetMessageId,
      conversationId: input.conversationId ?? this.conversationFor(mailbox, thread) ?? outlookId('AAQkAD', '='),
      subject: input.subject,
      body: { contentType: bodyType, content: input.body },
      uniqueBody: { contentType: bodyType, content: input.uniqueBody ?? input.body },
      from,
      toRecipients: to,
      ccRecipients: cc,
      bccRecipients: [],
      replyTo: [],
      internetMessageHeaders: headers,
      receivedDateTime: received,
      sentDateTime: received,
      isRead: input.isRead ?? false,
      isDraft: false,
      importance: input.importance ?? 'normal',
      attachments: (input.attachments ?? []).map(toStoredAttachment),
    });
  }

  /** Files a copy of sent mail, as `saveToSentItems` does. */
  saveSent(user: DirectoryUser, message: Omit<StoredMessage, FolderManaged>): StoredMessage {
    const mailbox = this.mailbox(user);
    const folder = this.folder(mailbox, 'sentitems');
    if (!folder) throw new Error('mailbox without Sent Items');
    return this.insert(mailbox, folder, message);
  }

  update(message: StoredMessage, patch: Partial<Pick<StoredMessage, 'isRead' | 'categories' | 'importance' | 'flag'>>) {
    Object.assign(message, patch);
    this.touch(message);
    this.emit({ kind: 'updated', message, folderId: message.folderId });
    return message;
  }

  /** Moves a message; its REST id changes (as in Exchange) while its immutable id does not. */
  move(mailbox: Mailbox, message: StoredMessage, destination: MailFolder): StoredMessage {
    const fromFolderId = message.folderId;
    const previousRestId = message.restId;
    mailbox.tombstones.push({
      folderId: fromFolderId,
      immutableId: message.immutableId,
      restId: previousRestId,
      version: ++this.version,
    });
    mailbox.restIndex.delete(previousRestId);
    message.restId = outlookId('AAMkAD', '=');
    mailbox.restIndex.set(message.restId, message.immutableId);
    message.folderId = destination.id;
    this.touch(message);
    this.emit({ kind: 'moved', message, fromFolderId, folderId: destination.id, previousRestId });
    return message;
  }

  /** Changes to one folder after `sinceVersion`, latest state per message; `null` means an initial sync. */
  changesSince(mailbox: Mailbox, folderId: string, sinceVersion: number | null): DeltaEntry[] {
    const latest = new Map<string, { version: number; entry: DeltaEntry }>();
    if (sinceVersion !== null) {
      for (const tombstone of mailbox.tombstones) {
        if (tombstone.folderId === folderId && tombstone.version > sinceVersion) {
          latest.set(tombstone.immutableId, { version: tombstone.version, entry: { kind: 'removed', tombstone } });
        }
      }
    }
    for (const message of mailbox.messages.values()) {
      if (message.folderId !== folderId || message.version <= (sinceVersion ?? 0)) continue;
      const known = latest.get(message.immutableId);
      if (!known || known.version < message.version) {
        latest.set(message.immutableId, { version: message.version, entry: { kind: 'present', message } });
      }
    }
    return [...latest.values()].sort((a, b) => a.version - b.version).map(({ entry }) => entry);
  }

  private insert(mailbox: Mailbox, folder: MailFolder, fields: Omit<StoredMessage, FolderManaged>): StoredMessage {
    const now = new Date().toISOString();
    const message: StoredMessage = {
      ...fields,
      immutableId: outlookId('AAkALgAA', '='),
      restId: outlookId('AAMkAD', '='),
      folderId: folder.id,
      mailboxUserId: mailbox.user.id,
      conversationIndex: randomBytes(22).toString('base64'),
      createdDateTime: now,
      lastModifiedDateTime: now,
      categories: [],
      flag: { flagStatus: 'notFlagged' },
      changeKey: '',
      version: 0,
    };
    this.touch(message);
    mailbox.messages.set(message.immutableId, message);
    mailbox.restIndex.set(message.restId, message.immutableId);
    this.emit({ kind: 'created', message, folderId: folder.id });
    return message;
  }

  private conversationFor(mailbox: Mailbox, messageIds: string[]): string | undefined {
    if (messageIds.length === 0) return undefined;
    for (const message of mailbox.messages.values()) {
      if (messageIds.includes(message.internetMessageId)) return message.conversationId;
    }
    return undefined;
  }

  private touch(message: StoredMessage): void {
    message.version = ++this.version;
    message.changeKey = `CQAAABYAAA${randomBytes(12).toString('base64url')}`;
    message.lastModifiedDateTime = new Date().toISOString();
  }

  private emit(change: MailChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** Fields the store assigns itself when a message is filed. */
export type FolderManaged =
  | 'immutableId'
  | 'restId'
  | 'folderId'
  | 'mailboxUserId'
  | 'conversationIndex'
  | 'createdDateTime'
  | 'lastModifiedDateTime'
  | 'categories'
  | 'flag'
  | 'changeKey'
  | 'version';

/** Accepts `"Name <a@b>"`, `"a@b"` or an EmailAddress object. */
export function recipient(input: string | EmailAddress): Recipient {
  if (typeof input !== 'string') return { emailAddress: { name: input.name, address: input.address } };
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(input);
  if (match?.[2]) return { emailAddress: { name: match[1] || match[2], address: match[2] } };
  return { emailAddress: { name: input.trim(), address: input.trim() } };
}

/** Exchange ids are long base64 strings with a recognisable prefix per kind. */
export function outlookId(prefix: string, suffix: string): string {
  return `${prefix}${randomBytes(30).toString('base64url')}${suffix}`;
}

function formatAddress(address: EmailAddress): string {
  return address.name && address.name !== address.address ? `"${address.name}" <${address.address}>` : address.address;
}

function normaliseHeaders(headers: DeliverMessageInput['headers']): InternetMessageHeader[] {
  if (!headers) return [];
  if (Array.isArray(headers)) return headers.map(({ name, value }) => ({ name, value }));
  return Object.entries(headers).map(([name, value]) => ({ name, value }));
}

export function toStoredAttachment(input: AttachmentInput): StoredAttachment {
  const bytes = typeof input.content === 'string' ? Buffer.from(input.content, 'utf8') : input.content;
  return {
    id: outlookId('AAMkAD', 'AAABEgAQ='),
    name: input.name,
    contentType: input.contentType ?? 'application/octet-stream',
    size: bytes.length,
    isInline: input.isInline ?? false,
    contentId: input.contentId ?? null,
    contentBytes: bytes.toString('base64'),
    lastModifiedDateTime: new Date().toISOString(),
  };
}
