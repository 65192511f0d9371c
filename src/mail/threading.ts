/**
 * Threading and loop detection for inbound email: pure functions over the fields Graph returns,
 * so the rules are tested without a mailbox.
 */

export interface MailHeader {
  name: string;
  value: string;
}

/** The parts of a Graph message the rules look at. */
export interface MailFacts {
  subject: string;
  fromAddress: string | null;
  conversationId: string | null;
  internetMessageId: string | null;
  headers: MailHeader[];
}

/** Header we put on everything we send, so our own mail coming back is recognised as a loop. */
export const ORIGIN_HEADER = 'X-Switchyard-Origin';
export const TICKET_HEADER = 'X-Switchyard-Ticket';

const TOKEN_RE = /\[\s*SY-(\d{1,12})\s*\]/i;
const TOKENS_RE = /\[\s*SY-(\d{1,12})\s*\]/gi;

/** The subject token that ties mail to a ticket, e.g. `[SY-42]`. */
export function ticketToken(ticketNumber: number | string): string {
  return `[SY-${ticketNumber}]`;
}

/** The ticket number carried in a subject, if any. */
export function ticketNumberFromSubject(subject: string): number | null {
  const m = TOKEN_RE.exec(subject);
  return m?.[1] ? Number(m[1]) : null;
}

/** Every ticket number in a subject, in order, once each (a reply on a linked ticket carries two). */
export function ticketNumbersFromSubject(subject: string): number[] {
  return [...new Set([...subject.matchAll(TOKENS_RE)].map((m) => Number(m[1])))];
}

/** Adds the ticket token to a subject unless it already carries it. */
export function subjectWithToken(subject: string, ticketNumber: number): string {
  if (ticketNumberFromSubject(subject) === ticketNumber) return subject;
  return `${subject.trim()} ${ticketToken(ticketNumber)}`.trim();
}

/** Case-insensitive header lookup; the first occurrence wins, as mail parsers do. */
export function headerValue(headers: MailHeader[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/** Message-IDs (`<...>`) listed in a header value. */
export function messageIds(value: string | undefined): string[] {
  return value ? (value.match(/<[^<>\s]+>/g) ?? []) : [];
}

/**
 * Message-IDs this mail answers, most specific first: In-Reply-To, then References newest
 * to oldest (the last reference is the direct parent, the first the thread root).
 */
export function referencedMessageIds(headers: MailHeader[]): string[] {
  const ids = [
    ...messageIds(headerValue(headers, 'In-Reply-To')),
    ...messageIds(headerValue(headers, 'References')).reverse(),
  ];
  return [...new Set(ids)];
}

/** What threading looks for, in the order the rules apply: token, then references, then conversation. */
export interface ThreadKeys {
  ticketNumbers: number[];
  references: string[];
  conversationId: string | null;
}

export function threadKeys(mail: MailFacts): ThreadKeys {
  return {
    ticketNumbers: ticketNumbersFromSubject(mail.subject),
    references: referencedMessageIds(mail.headers),
    conversationId: mail.conversationId,
  };
}

/** A ticket a mail points at, and the rule that found it. */
export interface ThreadCandidate<T> {
  ticket: T;
  rule: 'token' | 'references' | 'conversation';
}

/** Where a mail goes: into a ticket, or a new ticket (linked to the one it pointed at, if any). */
export type ThreadChoice<T> = { thread: ThreadCandidate<T> } | { thread: null; related: T | null };

/**
 * Picks the ticket a mail joins. A ticket number or a Message-ID is no proof of who is writing:
 * the numbers are sequential and Message-IDs travel in every reply. So a mail joins the first
 * ticket it points at (in rule order) only when its sender already took part in that ticket;
 * a stranger's mail opens a new ticket, linked to the first one it pointed at, for an agent to
 * merge if it belongs there.
 */
export async function chooseThread<T>(
  candidates: ThreadCandidate<T>[],
  tookPart: (ticket: T) => Promise<boolean>,
): Promise<ThreadChoice<T>> {
  for (const candidate of candidates) if (await tookPart(candidate.ticket)) return { thread: candidate };
  return { thread: null, related: candidates[0]?.ticket ?? null };
}

export type LoopVerdict = { skip: false } | { skip: true; reason: string };

const BULK_PRECEDENCE = new Set(['bulk', 'junk', 'list', 'auto_reply']);
const DAEMON_SENDERS = /^(mailer-daemon|postmaster|microsoftexchange[0-9a-f]*)@/i;

/**
 * Decides whether a mail must not become or update a ticket: automatic replies, bounces and
 * our own mail coming back. Answering any of them would start a mail loop.
 */
export function loopVerdict(mail: MailFacts, own: { addresses: string[]; messageIds?: Set<string> }): LoopVerdict {
  const h = (name: string) => headerValue(mail.headers, name)?.trim();
  const autoSubmitted = h('Auto-Submitted');
  if (autoSubmitted && autoSubmitted.toLowerCase() !== 'no') {
    return { skip: true, reason: `automatic reply (Auto-Submitted: ${autoSubmitted})` };
  }
  if (h('X-Autoreply') !== undefined) return { skip: true, reason: 'automatic reply (X-Autoreply)' };
  if (h('X-Autorespond') !== undefined) return { skip: true, reason: 'automatic reply (X-Autorespond)' };
  const precedence = h('Precedence')?.toLowerCase();
  if (precedence && BULK_PRECEDENCE.has(precedence))
    return { skip: true, reason: `bulk mail (Precedence: ${precedence})` };
  const suppress = h('X-Auto-Response-Suppress');
  if (suppress) return { skip: true, reason: `automatic message (X-Auto-Response-Suppress: ${suppress})` };
  if (/multipart\/report/i.test(h('Content-Type') ?? '')) return { skip: true, reason: 'bounce (multipart/report)' };
  const from = mail.fromAddress?.toLowerCase() ?? '';
  if (DAEMON_SENDERS.test(from)) return { skip: true, reason: `bounce (sender ${from})` };
  if (h(ORIGIN_HEADER) !== undefined) return { skip: true, reason: `our own message (${ORIGIN_HEADER})` };
  if (from && own.addresses.some((a) => a.toLowerCase() === from)) {
    return { skip: true, reason: `our own message (sent from ${from})` };
  }
  if (mail.internetMessageId && own.messageIds?.has(mail.internetMessageId)) {
    return { skip: true, reason: 'our own message (Message-ID we sent)' };
  }
  return { skip: false };
}
