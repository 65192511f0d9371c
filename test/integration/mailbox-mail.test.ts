import { idempotencyKeyFor } from '../../src/platform/effects/activity-keys';
import { mailboxAad } from '../../src/mail/graph/msal';
import { SecretBox } from '../../src/platform/security/secret-box';
import { eventually, fetchJson } from '../harness/stack';
import {
  AGENT,
  createSubscribedMailbox,
  HELPDESK,
  inboundLog,
  processed,
  startSupportDesk,
  SUPPORT,
  ticket,
  type MailStack,
} from './mailbox-helpers';

let m: MailStack;
let mailbox: { id: string; notificationUrl: string; lifecycleNotificationUrl: string };

beforeAll(async () => {
  // Replies and notifications leave through a separate outgoing default mailbox.
  ({ m, support: mailbox } = await startSupportDesk());
});
afterAll(async () => {
  await m?.stop();
});

const deliver = (input: Parameters<MailStack['emulator']['deliverMessage']>[1]) =>
  m.emulator.deliverMessage(SUPPORT, input);
const countTickets = async () => Number((await m.stack.db.query('SELECT count(*) AS n FROM tickets')).rows[0].n);

test('an email becomes a ticket: logged with its request, marked read, and "New Ticket Logged" emitted', async () => {
  const sent = deliver({
    from: 'Alice <alice@customer.test>',
    subject: 'Printer broken',
    body: 'It is on fire',
    uniqueBody: 'It is on fire',
  });
  await processed(m, mailbox.id, sent.internetMessageId);
  // Marking read follows the ticket; the log shows it once done.
  const entry = await eventually(async () =>
    (await inboundLog(m, mailbox.id)).find((e) => e.internetMessageId === sent.internetMessageId && e.afterProcessing),
  );
  expect(entry).toMatchObject({
    status: 'ticket_created',
    source: 'notification',
    subject: 'Printer broken',
    afterProcessing: 'marked read',
  });
  expect(entry.graphMessageId).toBe(sent.immutableId);
  expect(entry.workflowId).toBe(`mail:${mailbox.id}:${sent.immutableId}`);

  const t = await ticket(m, entry.ticketId);
  expect(t).toMatchObject({
    summary: 'Printer broken',
    details: 'It is on fire',
    requester: { address: 'alice@customer.test', name: 'Alice' },
  });
  expect(t.messages).toHaveLength(1);
  expect(t.messages[0]).toMatchObject({
    direction: 'inbound',
    internetMessageId: sent.internetMessageId,
    threadedBy: 'new',
  });

  const detail = (await m.stack.request('GET', `/api/v1/inbound-mail/${entry.id}`)).body;
  expect(detail.requests).toHaveLength(1);
  expect(detail.requests[0].log.map((l: { message: string }) => l.message).join('\n')).toMatch(
    /created ticket \[SY-\d+\]/,
  );
  const request = (await m.stack.request('GET', `/api/v1/inbound-mail/${entry.id}/requests/1`)).body;
  expect(request.rawData).toMatchObject({
    id: sent.immutableId,
    internetMessageHeaders: expect.any(Array),
    uniqueBody: { content: 'It is on fire' },
  });

  await eventually(async () => m.emulator.messages(SUPPORT).find((x) => x.immutableId === sent.immutableId)?.isRead);
  const events = await m.stack.db.query(
    "SELECT type, object_id FROM events WHERE type = 'ticket.created' AND object_id = $1",
    [t.id],
  );
  expect(events.rows).toHaveLength(1);
  const across = await m.stack.request('GET', `/api/v1/inbound-mail?mailboxId=${mailbox.id}&status=ticket_created`);
  expect(across.body.data.map((e: { id: string }) => e.id)).toContain(entry.id);
});

test('a notification delivered twice yields one ticket', async () => {
  const before = await countTickets();
  m.emulator.duplicateNextNotification();
  const sent = deliver({ from: 'bob@customer.test', subject: 'Twice', body: 'same notification, two POSTs' });
  await processed(m, mailbox.id, sent.internetMessageId);
  await m.emulator.notificationsIdle();
  const posts = m.emulator.notificationLog().filter((a) => a.kind === 'change' && a.body.includes(sent.immutableId));
  expect(posts.length).toBe(2);
  expect(posts.every((p) => p.status === 202 && p.latencyMs < 3000)).toBe(true);
  expect(await countTickets()).toBe(before + 1);
  expect((await inboundLog(m, mailbox.id)).filter((e) => e.graphMessageId === sent.immutableId)).toHaveLength(1);
  // The request log keeps the answer each POST got: the repeat is counted as a duplicate.
  const requests = await m.stack.request('GET', `/api/v1/inbound-requests?mailboxId=${mailbox.id}&limit=100`);
  const logged = (requests.body.data as Array<{ body: string; outcome: string; responseBody: string }>)
    .filter((r) => r.body.includes(sent.immutableId))
    .map((r) => [r.outcome, JSON.parse(r.responseBody)]);
  expect(logged).toEqual([
    ['duplicate', { accepted: 0, duplicates: 1, ignored: 0 }],
    ['accepted', { accepted: 1, duplicates: 0, ignored: 0 }],
  ]);
});

test('a notification about anything but a new email is answered 202, logged as ignored items, and starts nothing', async () => {
  const before = await countTickets();
  const { client_state_enc: sealed } = (
    await m.stack.db.query('SELECT client_state_enc FROM mailboxes WHERE id = $1', [mailbox.id])
  ).rows[0];
  const clientState = SecretBox.fromBase64(m.stack.env['SWITCHYARD_MASTER_KEY']!).decrypt(
    sealed,
    mailboxAad.clientState(mailbox.id),
  );
  const res = await fetchJson(mailbox.notificationUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      value: [{ subscriptionId: 's', clientState, changeType: 'updated', resourceData: { id: 'updated-not-new' } }],
    }),
  });
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ accepted: 0, duplicates: 0, ignored: 1 });
  const requests = await m.stack.request('GET', `/api/v1/inbound-requests?mailboxId=${mailbox.id}&limit=100`);
  const entry = (requests.body.data as Array<{ body: string; outcome: string; responseBody: string }>).find((r) =>
    r.body.includes('updated-not-new'),
  );
  expect(entry).toMatchObject({ outcome: 'accepted', responseBody: JSON.stringify(res.body) });
  expect(entry!.body).not.toContain(clientState);
  expect((await inboundLog(m, mailbox.id)).some((e) => e.graphMessageId === 'updated-not-new')).toBe(false);
  expect(await countTickets()).toBe(before);
});

describe('threading', () => {
  let original: { internetMessageId: string; conversationId: string };
  let ticketId: string;
  let number: number;
  beforeAll(async () => {
    original = deliver({ from: 'erin@customer.test', subject: 'VPN down', body: 'cannot connect' });
    const entry = await processed(m, mailbox.id, original.internetMessageId);
    ticketId = entry.ticketId;
    number = (await ticket(m, ticketId)).number;
  });

  const expectThreaded = async (sent: { internetMessageId: string }, rule: string) => {
    const entry = await processed(m, mailbox.id, sent.internetMessageId);
    expect(entry).toMatchObject({ status: 'ticket_updated', ticketId });
    const t = await ticket(m, ticketId);
    expect(
      t.messages.find((x: { internetMessageId: string }) => x.internetMessageId === sent.internetMessageId).threadedBy,
    ).toBe(rule);
  };

  test('by the ticket token in the subject', async () => {
    await expectThreaded(
      deliver({
        from: 'erin@customer.test',
        subject: `Re: still down [SY-${number}]`,
        body: 'x',
        conversationId: 'AAQk-unrelated-1',
      }),
      'token',
    );
  });

  test("a stranger's reply with the token opens a new ticket linked to this one", async () => {
    const sent = deliver({
      from: 'frank@other.test',
      subject: `Re: still down [SY-${number}]`,
      body: 'x',
      inReplyTo: original.internetMessageId,
      conversationId: original.conversationId,
    });
    const entry = await processed(m, mailbox.id, sent.internetMessageId);
    expect(entry.status).toBe('ticket_created');
    expect(entry.outcome).toMatch(new RegExp(`linked to \\[SY-${number}\\]`));
    const own = await ticket(m, entry.ticketId);
    expect(own).toMatchObject({ relatedTicketId: ticketId, relatedTicket: { id: ticketId, number } });
    expect(
      (await ticket(m, ticketId)).messages.map((x: { from: { address: string } }) => x.from?.address),
    ).not.toContain('frank@other.test');
  });

  test('never across mailboxes, even for the requester', async () => {
    const other = await createSubscribedMailbox(m, { name: 'Agent inbox', emailAddress: AGENT });
    const sent = m.emulator.deliverMessage(AGENT, {
      from: 'erin@customer.test',
      subject: `Re: VPN down [SY-${number}]`,
      body: 'x',
      inReplyTo: original.internetMessageId,
    });
    const entry = await processed(m, other.id, sent.internetMessageId);
    expect(entry.status).toBe('ticket_created');
    expect((await ticket(m, entry.ticketId)).relatedTicketId).toBeNull();
  });

  test('by In-Reply-To / References', async () => {
    await expectThreaded(
      deliver({
        from: 'erin@customer.test',
        subject: 'different subject',
        body: 'x',
        inReplyTo: original.internetMessageId,
        conversationId: 'AAQk-unrelated-2',
      }),
      'references',
    );
  });

  test('by conversation id', async () => {
    await expectThreaded(
      deliver({
        from: 'erin@customer.test',
        subject: 'no token, no headers',
        body: 'x',
        conversationId: original.conversationId,
      }),
      'conversation',
    );
  });

  test('a reply from the ticket goes out through Graph and the answer to it threads back', async () => {
    const res = await m.stack.request('POST', `/api/v1/tickets/${ticketId}/reply`, {
      body: 'Have you tried turning it off and on?',
    });
    expect(res.status).toBe(202);
    const sentMail = await eventually(async () =>
      m.emulator.sentMail().find((s) => String(s.message['subject']).includes(`[SY-${number}]`)),
    );
    expect(sentMail).toMatchObject({ from: HELPDESK, kind: 'sendMail' });
    expect(sentMail.message['toRecipients']).toEqual([{ emailAddress: { address: 'erin@customer.test' } }]);
    // Sent through the effect ledger: its key, from the reply's workflow, travels with it.
    const key = (sentMail.message['internetMessageHeaders'] as Array<{ name: string; value: string }>).find(
      (h) => h.name === 'X-Idempotency-Key',
    )?.value;
    expect(key).toBe(idempotencyKeyFor(`outbound:${res.body.workflowId}/sendTicketReply#reply`));
    await eventually(async () =>
      (await ticket(m, ticketId)).messages.some(
        (x: { direction: string; status: string }) => x.direction === 'outbound' && x.status === 'sent',
      ),
    );
    await expectThreaded(
      deliver({
        from: 'erin@customer.test',
        subject: String(sentMail.message['subject']).replace(/^RE:/, 'RE: RE:'),
        body: 'yes',
      }),
      'token',
    );
  });
});

test.each([
  ['Auto-Submitted', { headers: { 'Auto-Submitted': 'auto-replied' } }, /Auto-Submitted/],
  ['X-Autoreply', { headers: { 'X-Autoreply': 'yes' } }, /X-Autoreply/],
  ['Precedence: bulk', { headers: { Precedence: 'bulk' } }, /bulk/],
  [
    'a mailer-daemon bounce',
    {
      from: 'MAILER-DAEMON@mx.customer.test',
      headers: { 'Content-Type': 'multipart/report; report-type=delivery-status' },
    },
    /bounce/,
  ],
  ['our own mail coming back', { from: HELPDESK }, /our own/],
])('skips %s', async (_name, extra, reason) => {
  const before = await countTickets();
  const sent = deliver({
    from: 'ooo@customer.test',
    subject: 'Automatic reply: Printer broken',
    body: 'I am away',
    ...extra,
  });
  const entry = await processed(m, mailbox.id, sent.internetMessageId);
  expect(entry.status).toBe('skipped');
  expect(entry.outcome).toMatch(reason);
  expect(await countTickets()).toBe(before);
});

describe('the notification endpoints', () => {
  const post = (url: string, body: string, contentType = 'application/json') =>
    fetchJson(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const item = (clientState: string) =>
    JSON.stringify({
      value: [
        {
          subscriptionId: 's',
          clientState,
          changeType: 'created',
          resource: 'Users/x/Messages/forged',
          resourceData: { id: 'forged-id' },
        },
      ],
    });

  test('echo the validation token as text/plain for both URLs', async () => {
    for (const url of [mailbox.notificationUrl, mailbox.lifecycleNotificationUrl]) {
      const token = 'Validation: Testing client application reachability for subscription Request-Id: 1+2 &x';
      const res = await fetch(`${url}?validationToken=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe(token);
    }
  });

  test('a clientState changed by another process is accepted at once; the old one is refused within a second', async () => {
    const secrets = SecretBox.fromBase64(m.stack.env['SWITCHYARD_MASTER_KEY']!);
    const aad = mailboxAad.clientState(mailbox.id);
    const { client_state_enc: original } = (
      await m.stack.db.query('SELECT client_state_enc FROM mailboxes WHERE id = $1', [mailbox.id])
    ).rows[0];
    const missed = (clientState: string) =>
      post(
        mailbox.lifecycleNotificationUrl,
        JSON.stringify({ value: [{ subscriptionId: 's', clientState, lifecycleEvent: 'missed' }] }),
      );
    try {
      // The API has just read the mailbox (and may keep it for a second)...
      expect((await missed(secrets.decrypt(original, aad))).status).toBe(202);
      // ...when a renewal elsewhere (the worker) gives the subscription a new clientState.
      await m.stack.db.query('UPDATE mailboxes SET client_state_enc = $2 WHERE id = $1', [
        mailbox.id,
        secrets.encrypt('renewed-client-state', aad),
      ]);
      expect((await missed('renewed-client-state')).status).toBe(202);
      // The old one stops working once this process's one-second memo of the mailbox has lapsed.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await missed(secrets.decrypt(original, aad))).status).toBe(401);
    } finally {
      await m.stack.db.query('UPDATE mailboxes SET client_state_enc = $2 WHERE id = $1', [mailbox.id, original]);
    }
  });

  test.each([
    [
      'a wrong clientState',
      () => post(mailbox.notificationUrl, item('not-the-client-state')),
      401,
      'invalid_client_state',
    ],
    ['malformed JSON', () => post(mailbox.notificationUrl, '{"value": ['), 400, 'malformed_json'],
    [
      'JSON that is not a notification',
      () => post(mailbox.notificationUrl, '{"hello":"world"}'),
      400,
      'invalid_notification',
    ],
    [
      'an unknown mailbox',
      () => post(mailbox.notificationUrl.replace(mailbox.id, '00000000-0000-4000-8000-000000000000'), item('x')),
      404,
      'unknown_mailbox',
    ],
    [
      'a lifecycle event with a wrong clientState',
      () =>
        post(
          mailbox.lifecycleNotificationUrl,
          JSON.stringify({
            value: [{ subscriptionId: 's', clientState: 'nope', lifecycleEvent: 'subscriptionRemoved' }],
          }),
        ),
      401,
      'invalid_client_state',
    ],
  ])('refuse %s and change nothing', async (_name, send, status, code) => {
    const before = (await m.stack.db.query('SELECT count(*) AS n FROM inbound_mail')).rows[0].n;
    const subscriptions = m.emulator.subscriptions().map((s) => s.id);
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect((await m.stack.db.query('SELECT count(*) AS n FROM inbound_mail')).rows[0].n).toBe(before);
    expect(m.emulator.subscriptions().map((s) => s.id)).toEqual(subscriptions);
    const logged = await m.stack.db.query(
      "SELECT outcome, response_status FROM inbound_requests WHERE provider = 'graph' ORDER BY id DESC LIMIT 1",
    );
    expect(logged.rows[0]).toEqual({ outcome: 'rejected', response_status: status });
  });
});
