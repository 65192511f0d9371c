/**
 * What an outside email sender can make the product do (issue 23, items 3, 6 and 7): each row is
 * a mail a stranger (or the requester) sends, and the outcome a user of the tickets sees.
 * Real Temporal, real PostgreSQL, the Microsoft emulator as Graph.
 */
import type { DeliverMessageInput, StoredMessage } from '../emulators/microsoft';
import { eventually } from '../harness/stack';
import {
  AGENT,
  createSubscribedMailbox,
  inboundLog,
  processed,
  startSupportDesk,
  SUPPORT,
  ticket,
  type MailStack,
} from './mailbox-helpers';

const MB = 1024 * 1024;
let m: MailStack;
let support: { id: string };
let agent: { id: string };
/** The requester's ticket the strangers aim at. */
let victim: { id: string; number: number; internetMessageId: string; conversationId: string };

beforeAll(async () => {
  ({ m, support } = await startSupportDesk({ env: { MAIL_ATTACHMENT_MAX_BYTES: String(2 * MB) } }));
  agent = await createSubscribedMailbox(m, { name: 'Agent inbox', emailAddress: AGENT });
  const sent = m.emulator.deliverMessage(SUPPORT, {
    from: 'Alice <alice@customer.test>',
    subject: 'Payroll export',
    body: 'the payroll file is attached',
  });
  const entry = await processed(m, support.id, sent.internetMessageId, 60_000);
  const t = await ticket(m, entry.ticketId);
  victim = {
    id: t.id,
    number: t.number,
    internetMessageId: sent.internetMessageId,
    conversationId: sent.conversationId,
  };
});
afterAll(async () => {
  await m?.stop();
});

const pdf = (size: number, fill: number) => Buffer.alloc(size, fill);
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const VALUE_CALLS = 'GET /users/{id}/messages/{id}/attachments/{id}/$value';
const valueCalls = () => m.emulator.stats().calls[VALUE_CALLS] ?? 0;

interface Row {
  /** What the outside sender mails. */
  mails: string;
  to?: 'support' | 'agent';
  mail: () => DeliverMessageInput;
  /** Set up around the delivery (faults to inject once Graph knows the attachment ids). */
  arm?: (sent: StoredMessage) => void;
  expected: {
    /** The victim's ticket gets the message (it threads), or a ticket of its own is made. */
    threads: boolean;
    /** The new ticket is linked to the victim's for an agent to merge. */
    linked?: boolean;
    /** What GET /tickets/:id of the resulting ticket shows (checked after its attachments settle). */
    check?: (t: Record<string, any>, sent: StoredMessage) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
    attachments?: number;
    /** Requests Graph saw for `$value`, at most: a permanent failure is not retried. */
    maxValueCalls?: number;
  };
}

const stranger = 'Mallory <mallory@evil.test>';
const rows: Row[] = [
  {
    mails: 'a stranger replies with the ticket token in the subject',
    mail: () => ({ from: stranger, subject: `Re: Payroll export [SY-${victim.number}]`, body: 'send it to me' }),
    expected: { threads: false, linked: true },
  },
  {
    mails: 'a stranger uses a lower-case, spaced token',
    mail: () => ({ from: stranger, subject: `re: [ sy-${victim.number} ]`, body: 'x' }),
    expected: { threads: false, linked: true },
  },
  {
    mails: "a stranger sets In-Reply-To to the requester's Message-ID",
    // Its own conversation: Graph would give it the victim's, and the stranger's next mail would
    // then join this stranger's own (linked) ticket, rightly, rather than show the rule below.
    mail: () => ({
      from: stranger,
      subject: 'hello',
      body: 'x',
      inReplyTo: victim.internetMessageId,
      conversationId: 'AAQk-hostile-1',
    }),
    expected: { threads: false, linked: true },
  },
  {
    mails: "a stranger lists the requester's Message-ID in References",
    mail: () => ({
      from: stranger,
      subject: 'hello',
      body: 'x',
      references: ['<a@b>', victim.internetMessageId],
      conversationId: 'AAQk-hostile-2',
    }),
    expected: { threads: false, linked: true },
  },
  {
    mails: "a stranger joins the requester's conversation id",
    mail: () => ({ from: stranger, subject: 'Payroll export', body: 'x', conversationId: victim.conversationId }),
    expected: { threads: false, linked: true },
  },
  {
    mails: "a stranger borrows the requester's display name",
    mail: () => ({ from: 'Alice <alice@evil.test>', subject: `Re: [SY-${victim.number}]`, body: 'x' }),
    expected: { threads: false, linked: true },
  },
  {
    mails: 'a stranger names a ticket that does not exist',
    mail: () => ({ from: stranger, subject: 'Re: [SY-987654321]', body: 'x' }),
    expected: { threads: false, linked: false },
  },
  {
    mails: 'the requester replies with her address in other case',
    mail: () => ({ from: 'ALICE@Customer.Test', subject: `Re: Payroll export [SY-${victim.number}]`, body: 'thanks' }),
    expected: { threads: true },
  },
  {
    mails: 'a stranger mails the token to another mailbox',
    to: 'agent',
    mail: () => ({ from: stranger, subject: `Re: [SY-${victim.number}]`, body: 'x' }),
    expected: { threads: false, linked: false },
  },
  {
    mails: 'the requester herself writes to another mailbox with the token and In-Reply-To',
    to: 'agent',
    mail: () => ({
      from: 'alice@customer.test',
      subject: `Re: Payroll export [SY-${victim.number}]`,
      body: 'x',
      inReplyTo: victim.internetMessageId,
    }),
    expected: { threads: false, linked: false },
  },
  {
    mails: 'an inline image referenced as cid:%ZZ (bad percent-encoding)',
    mail: () => ({
      from: stranger,
      subject: 'look',
      bodyType: 'html',
      body: '<p>see</p><img src="cid:%ZZ"><img src="cid:shot%40x">',
      attachments: [{ name: 'shot.png', content: PNG, contentType: 'image/png', isInline: true, contentId: 'shot@x' }],
    }),
    expected: {
      threads: false,
      attachments: 1,
      check: (t) => {
        const body = t.messages[0].renderedBody as string;
        expect(body).toContain('src="cid:%ZZ"');
        expect(body).toContain(`src="${t.attachments[0].url}"`);
      },
    },
  },
  {
    mails: 'a cid: link cut inside a UTF-8 sequence (cid:%E0%A4%A)',
    mail: () => ({
      from: stranger,
      subject: 'look again',
      bodyType: 'html',
      body: '<img src="cid:%E0%A4%A">',
      attachments: [{ name: 'a.png', content: PNG, contentType: 'image/png', isInline: true, contentId: 'a@x' }],
    }),
    expected: {
      threads: false,
      attachments: 1,
      check: (t) => expect(t.messages[0].renderedBody).toContain('cid:%E0%A4%A'),
    },
  },
  {
    mails: 'an attachment over the size limit, then a small one',
    mail: () => ({
      from: stranger,
      subject: 'big file',
      body: 'x',
      attachments: [
        { name: 'huge.bin', content: pdf(Math.round(2.5 * MB), 1) },
        { name: 'small.txt', content: 'fine', contentType: 'text/plain' },
      ],
    }),
    expected: {
      threads: false,
      attachments: 2,
      maxValueCalls: 1,
      check: (t) => {
        expect(t.attachments.map((a: { name: string; stored: boolean }) => [a.name, a.stored])).toEqual([
          ['huge.bin', false],
          ['small.txt', true],
        ]);
        expect(t.notes[0].text).toMatch(/"huge\.bin" \(2\.5 MB\).*over the 2\.0 MB limit per attachment/);
      },
    },
  },
  {
    mails: 'an attachment Graph refuses to serve (403), then another',
    mail: () => ({
      from: stranger,
      subject: 'refused file',
      body: 'x',
      attachments: [
        { name: 'locked.bin', content: pdf(Math.round(1.5 * MB), 2) },
        { name: 'after.bin', content: pdf(Math.round(1.2 * MB), 3) },
      ],
    }),
    arm: (sent) =>
      m.emulator.failNext(5, 403, { match: `${encodeURIComponent(sent.attachments[0]!.id)}/$value`, method: 'GET' }),
    expected: {
      threads: false,
      attachments: 2,
      maxValueCalls: 2,
      check: (t) => {
        expect(t.attachments.map((a: { name: string; stored: boolean }) => [a.name, a.stored])).toEqual([
          ['locked.bin', false],
          ['after.bin', true],
        ]);
        expect(t.notes[0].text).toMatch(/"locked\.bin".*Microsoft Graph refused it \(403/);
      },
    },
  },
];

test.each(rows.map((r) => [r.mails, r] as const))('%s', async (_name, row) => {
  const mailbox = row.to === 'agent' ? agent : support;
  const before = await ticket(m, victim.id);
  const calls = valueCalls();
  const sent = m.emulator.deliverMessage(row.to === 'agent' ? AGENT : SUPPORT, row.mail());
  row.arm?.(sent);
  const entry = await processed(m, mailbox.id, sent.internetMessageId, 60_000);
  const after = await ticket(m, victim.id);
  if (row.expected.threads) {
    expect(entry).toMatchObject({ status: 'ticket_updated', ticketId: victim.id });
    expect(after.messageCount).toBe(before.messageCount + 1);
    return;
  }
  expect(entry.status).toBe('ticket_created');
  expect(entry.ticketId).not.toBe(victim.id);
  // The victim's ticket gets nothing from a stranger: no message, no recipient added.
  expect(after.messageCount).toBe(before.messageCount);
  // Attachments (stored or noted) are recorded before the email is marked read.
  await eventually(async () => (await inboundLog(m, mailbox.id)).find((e) => e.id === entry.id && e.afterProcessing));
  const own = await ticket(m, entry.ticketId);
  expect(own.mailboxId).toBe(mailbox.id);
  expect(own.relatedTicketId).toBe(row.expected.linked ? victim.id : null);
  if (row.expected.linked) expect(own.relatedTicket).toMatchObject({ id: victim.id, number: victim.number });
  expect(own.attachments).toHaveLength(row.expected.attachments ?? 0);
  if (row.expected.maxValueCalls !== undefined) {
    expect(valueCalls() - calls).toBeLessThanOrEqual(row.expected.maxValueCalls);
  }
  row.expected.check?.(own, sent);
});
