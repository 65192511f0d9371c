import { startMicrosoftEmulator } from './index';
import type { MicrosoftEmulator } from './index';
import { appToken, graph } from './test-support';

const TENANT = 'fabrikam-tenant';
const MAILBOX = 'desk@fabrikam.test';

describe('Microsoft emulator: mail, delta and throttling', () => {
  let emulator: MicrosoftEmulator;
  let token: string;

  beforeAll(async () => {
    emulator = await startMicrosoftEmulator({
      throttle: { perTenMinutes: 10_000, concurrentPerMailbox: 4 },
      graphLatencyMs: 0,
    });
    const app = emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.ReadWrite', 'Mail.Send'] });
    emulator.addUser(TENANT, { id: 'desk-id', mail: MAILBOX, displayName: 'Service Desk' });
    emulator.addUser(TENANT, { mail: 'onprem@fabrikam.test', hasMailbox: false });
    emulator.addUser('another-tenant', { mail: 'outsider@another.test' });
    token = await appToken(emulator, app);
  });
  afterAll(() => emulator.stop());

  const base = `/users/${MAILBOX}`;

  it('returns internetMessageHeaders and uniqueBody only when selected; immutable ids survive a move', async () => {
    const delivered = emulator.deliverMessage(MAILBOX, {
      from: 'Customer <customer@example.test>',
      subject: 'VPN down',
      body: 'It is down again',
      headers: { 'Auto-Submitted': 'no' },
      inReplyTo: '<earlier@example.test>',
    });
    const plain = await graph(emulator, token, `${base}/messages/${delivered.immutableId}`);
    expect(plain.status).toBe(200);
    expect(plain.json).toMatchObject({ id: delivered.immutableId, subject: 'VPN down', isRead: false });
    expect(plain.json).not.toHaveProperty('internetMessageHeaders');
    expect(plain.json).not.toHaveProperty('uniqueBody');

    const selected = await graph(
      emulator,
      token,
      `${base}/messages/${delivered.immutableId}?$select=subject,internetMessageHeaders,uniqueBody`,
    );
    expect(Object.keys(selected.json).sort()).toEqual(
      ['@odata.context', '@odata.etag', 'id', 'internetMessageHeaders', 'subject', 'uniqueBody'].sort(),
    );
    expect(selected.json.internetMessageHeaders).toEqual(
      expect.arrayContaining([
        { name: 'Auto-Submitted', value: 'no' },
        { name: 'In-Reply-To', value: '<earlier@example.test>' },
      ]),
    );

    const moved = await graph(emulator, token, `${base}/messages/${delivered.immutableId}/move`, {
      method: 'POST',
      body: { destinationId: 'archive' },
    });
    expect(moved.status).toBe(201);
    expect(moved.json.id).toBe(delivered.immutableId);
    const withoutPrefer = await graph(emulator, token, `${base}/messages/${delivered.immutableId}`, {
      headers: { Prefer: '' },
    });
    expect(withoutPrefer.json.id).not.toBe(delivered.restId);
    expect(withoutPrefer.json.id).not.toBe(delivered.immutableId);
  });

  it('serves file attachments with their bytes', async () => {
    const delivered = emulator.deliverMessage(MAILBOX, {
      from: 'customer@example.test',
      subject: 'Screenshot attached',
      body: 'see attached',
      attachments: [{ name: 'error.txt', content: 'stack trace', contentType: 'text/plain' }],
    });
    const list = await graph(emulator, token, `${base}/messages/${delivered.immutableId}/attachments`);
    expect(list.json.value).toEqual([
      expect.objectContaining({
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: 'error.txt',
        contentType: 'text/plain',
        size: 11,
        contentBytes: Buffer.from('stack trace').toString('base64'),
      }),
    ]);
    const message = await graph(emulator, token, `${base}/messages/${delivered.immutableId}?$select=hasAttachments`);
    expect(message.json.hasAttachments).toBe(true);
  });

  it('lists attachment metadata with $select, streams large content from $value and keeps inline parts', async () => {
    const pdf = Buffer.alloc(2 * 1024 * 1024 + 17, 7);
    pdf.write('%PDF-1.7', 0);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const delivered = emulator.deliverMessage(MAILBOX, {
      from: 'customer@example.test',
      subject: 'Invoice and screenshot',
      bodyType: 'html',
      body: '<p>See <img src="cid:shot@x"></p>',
      attachments: [
        { name: 'invoice.pdf', content: pdf, contentType: 'application/pdf' },
        { name: 'shot.png', content: png, contentType: 'image/png', isInline: true, contentId: 'shot@x' },
      ],
    });
    const path = `${base}/messages/${delivered.immutableId}/attachments`;
    const list = await graph(emulator, token, `${path}?$select=id,name,contentType,size,isInline`);
    expect(list.status).toBe(200);
    expect(list.json.value).toHaveLength(2);
    expect(list.json.value[0]).not.toHaveProperty('contentBytes');
    expect(list.json.value[0]).toMatchObject({ name: 'invoice.pdf', size: pdf.length, isInline: false });
    const bad = await graph(emulator, token, `${path}?$select=contentId`);
    expect(bad.status).toBe(400);

    const value = await graph(emulator, token, `${path}/${list.json.value[0].id}/$value`);
    expect(value.status).toBe(200);
    expect(value.headers['content-type']).toBe('application/pdf');
    expect(value.bytes.equals(pdf)).toBe(true);

    const inline = await graph(emulator, token, `${path}/${list.json.value[1].id}`);
    expect(inline.json).toMatchObject({ isInline: true, contentId: 'shot@x', contentBytes: png.toString('base64') });
    // As in Graph, a message whose other attachments are all inline still says hasAttachments when one is a file.
    const message = await graph(emulator, token, `${base}/messages/${delivered.immutableId}?$select=hasAttachments`);
    expect(message.json.hasAttachments).toBe(true);
  });

  it('filters unread inbox messages, pages with $top and marks read with PATCH', async () => {
    for (const subject of ['a', 'b', 'c'])
      emulator.deliverMessage(MAILBOX, { from: 'x@example.test', subject, body: '' });
    const unread = await graph(
      emulator,
      token,
      `${base}/mailFolders/inbox/messages?$filter=isRead%20eq%20false&$top=2`,
    );
    expect(unread.json.value).toHaveLength(2);
    expect(unread.json['@odata.nextLink']).toContain('$skip=2');
    const target = unread.json.value[0].id as string;
    const patched = await graph(emulator, token, `${base}/messages/${target}`, {
      method: 'PATCH',
      body: { isRead: true },
    });
    expect(patched.json.isRead).toBe(true);
    const rest = await graph(emulator, token, unread.json['@odata.nextLink']);
    expect(rest.json.value.every((message: { isRead: boolean }) => !message.isRead)).toBe(true);
    const unknownProperty = await graph(emulator, token, `${base}/messages/${target}`, {
      method: 'PATCH',
      body: { bogus: 1 },
    });
    expect(unknownProperty.status).toBe(400);
  });

  it('pages delta with odata.maxpagesize and reports only later changes through the deltaLink', async () => {
    emulator.addUser(TENANT, { id: 'delta-id', mail: 'delta@fabrikam.test' });
    const path = `/users/delta@fabrikam.test/mailFolders('inbox')/messages/delta`;
    const seeded = [1, 2, 3, 4, 5].map((n) =>
      emulator.deliverMessage('delta@fabrikam.test', { from: 'x@example.test', subject: `m${n}`, body: '' }),
    );
    const pageHeaders = { Prefer: 'IdType="ImmutableId", odata.maxpagesize=2' };
    const seen: string[] = [];
    let response = await graph(emulator, token, `${path}?$select=subject,isRead`, { headers: pageHeaders });
    let pages = 1;
    expect(response.headers['preference-applied']).toContain('odata.maxpagesize=2');
    while (response.json['@odata.nextLink']) {
      seen.push(...response.json.value.map((item: { id: string }) => item.id));
      response = await graph(emulator, token, response.json['@odata.nextLink'], { headers: pageHeaders });
      pages += 1;
    }
    seen.push(...response.json.value.map((item: { id: string }) => item.id));
    expect(pages).toBe(3);
    expect(seen).toEqual(seeded.map((message) => message.immutableId));
    const deltaLink = String(response.json['@odata.deltaLink']);
    expect(deltaLink).toContain('$deltatoken=');

    const quiet = await graph(emulator, token, deltaLink);
    expect(quiet.json.value).toEqual([]);

    const fresh = emulator.deliverMessage('delta@fabrikam.test', { from: 'x@example.test', subject: 'new', body: '' });
    const leaving = seeded[0]?.immutableId ?? '';
    await graph(emulator, token, `/users/delta@fabrikam.test/messages/${leaving}/move`, {
      method: 'POST',
      body: { destinationId: 'deleteditems' },
    });
    const changes = await graph(emulator, token, String(quiet.json['@odata.deltaLink']));
    expect(changes.json.value).toEqual([
      expect.objectContaining({ id: fresh.immutableId, subject: 'new' }),
      { '@odata.type': '#microsoft.graph.message', id: leaving, '@removed': { reason: 'deleted' } },
    ]);
    expect(Object.keys(changes.json.value[0]).sort()).toEqual(['@odata.etag', 'id', 'isRead', 'subject']);

    emulator.invalidateDeltaTokens();
    expect((await graph(emulator, token, String(changes.json['@odata.deltaLink']))).status).toBe(410);
  });

  it('answers 429 ApplicationThrottled with Retry-After over the concurrency and rate limits', async () => {
    const slow = await startMicrosoftEmulator({
      throttle: { perTenMinutes: 6, concurrentPerMailbox: 2, windowMs: 2000 },
      graphLatencyMs: 150,
    });
    try {
      const app = slow.registerApp({ tenantId: TENANT });
      slow.addUser(TENANT, { mail: MAILBOX });
      const slowToken = await appToken(slow, app);
      const burst = await Promise.all(
        [1, 2, 3, 4].map(() => graph(slow, slowToken, `/users/${MAILBOX}/mailFolders/inbox/messages`)),
      );
      const throttled = burst.filter((response) => response.status === 429);
      expect(throttled).toHaveLength(2);
      expect(throttled[0]?.headers['retry-after']).toBe('1');
      expect(throttled[0]?.json.error).toMatchObject({
        code: 'ApplicationThrottled',
        message: 'Application is over its MailboxConcurrency limit.',
      });
      for (let i = 0; i < 4; i += 1) await graph(slow, slowToken, `/users/${MAILBOX}/messages`);
      const overRate = await graph(slow, slowToken, `/users/${MAILBOX}/messages`);
      expect(overRate.status).toBe(429);
      expect(Number(overRate.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(slow.stats()).toMatchObject({ throttled: 3, statuses: expect.objectContaining({ '429': 3 }) });
    } finally {
      await slow.stop();
    }
  });

  it('injects faults with failNext and counts calls by endpoint', async () => {
    emulator.resetStats();
    emulator.failNext(1, 503, { retryAfter: 2, match: '/mailFolders/inbox/messages' });
    const failed = await graph(emulator, token, `${base}/mailFolders/inbox/messages`);
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBe('2');
    expect(failed.json.error.code).toBe('ServiceUnavailable');
    expect((await graph(emulator, token, `${base}/mailFolders/inbox/messages`)).status).toBe(200);
    expect(emulator.stats()).toMatchObject({
      calls: { 'GET /users/{id}/mailFolders/{id}/messages': 2 },
      injectedFaults: 1,
    });
  });

  it('denies apps without mail permissions and hides mailboxes outside the tenant', async () => {
    const readless = emulator.registerApp({ tenantId: TENANT, permissions: ['User.Read.All'] });
    const denied = await graph(emulator, await appToken(emulator, readless), `${base}/messages`);
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({
      code: 'ErrorAccessDenied',
      message: 'Access is denied. Check credentials and try again.',
    });
    expect((await graph(emulator, token, '/users/outsider@another.test/messages')).json.error.code).toBe(
      'ErrorInvalidUser',
    );
    expect((await graph(emulator, token, '/users/onprem@fabrikam.test/messages')).json.error.code).toBe(
      'MailboxNotEnabledForRESTAPI',
    );
    expect((await graph(emulator, token, '/me/messages')).status).toBe(400);
  });

  it('records sendMail and threaded replies, refusing non-X- headers', async () => {
    const sent = await graph(emulator, token, `${base}/sendMail`, {
      method: 'POST',
      body: {
        message: {
          subject: 'Ticket #123 logged',
          body: { contentType: 'Text', content: 'We got it' },
          toRecipients: [{ emailAddress: { address: 'customer@example.test' } }],
          internetMessageHeaders: [{ name: 'X-Switchyard-Ticket', value: '123' }],
        },
        saveToSentItems: true,
      },
    });
    expect(sent.status).toBe(202);
    const original = emulator.deliverMessage(MAILBOX, { from: 'customer@example.test', subject: 'Help', body: 'pls' });
    const replied = await graph(emulator, token, `${base}/messages/${original.immutableId}/reply`, {
      method: 'POST',
      body: { comment: 'On it' },
    });
    expect(replied.status).toBe(202);
    const [sendRecord, replyRecord] = emulator.sentMail();
    expect(sendRecord).toMatchObject({ kind: 'sendMail', from: MAILBOX, message: { subject: 'Ticket #123 logged' } });
    expect(replyRecord).toMatchObject({
      kind: 'reply',
      inReplyTo: { internetMessageId: original.internetMessageId },
      message: { subject: 'RE: Help', conversationId: original.conversationId },
    });
    expect(emulator.messages(MAILBOX, 'sentitems')).toHaveLength(2);

    const badHeader = await graph(emulator, token, `${base}/sendMail`, {
      method: 'POST',
      body: {
        message: {
          subject: 's',
          toRecipients: [{ emailAddress: { address: 'c@example.test' } }],
          internetMessageHeaders: [{ name: 'In-Reply-To', value: '<x@y>' }],
        },
      },
    });
    expect(badHeader.json.error.code).toBe('InvalidInternetMessageHeader');
  });
  it('sends mail with file attachments and files them in Sent Items', async () => {
    const sent = await graph(emulator, token, `${base}/sendMail`, {
      method: 'POST',
      body: {
        message: {
          subject: 'Your invoice',
          toRecipients: [{ emailAddress: { address: 'customer@example.test' } }],
          attachments: [
            {
              '@odata.type': '#microsoft.graph.fileAttachment',
              name: 'invoice.pdf',
              contentType: 'application/pdf',
              contentBytes: Buffer.from('%PDF-1.7 tiny').toString('base64'),
            },
          ],
        },
      },
    });
    expect(sent.status).toBe(202);
    const record = emulator.sentMail().find((m) => m.message.subject === 'Your invoice');
    expect(record?.message.attachments).toEqual([expect.objectContaining({ name: 'invoice.pdf' })]);
    const filed = emulator.messages(MAILBOX).find((m) => m.subject === 'Your invoice');
    expect(filed?.attachments).toEqual([expect.objectContaining({ name: 'invoice.pdf', size: 13 })]);
  });
});
