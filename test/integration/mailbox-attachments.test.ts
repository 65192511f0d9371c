import { storeAttachment } from '../../src/mail/db/attachments';
import { eventually, fetchJson } from '../harness/stack';
import { processed, startSupportDesk, SUPPORT, ticket, type MailStack } from './mailbox-helpers';

const MB = 1024 * 1024;
let m: MailStack;
let mailbox: { id: string };

beforeAll(async () => {
  ({ m, support: mailbox } = await startSupportDesk({
    env: {
      MAIL_ATTACHMENT_MAX_BYTES: String(3 * MB),
      MAIL_ATTACHMENTS_MAX_BYTES_PER_EMAIL: String(4 * MB),
      REPLY_ATTACHMENTS_MAX_BYTES: String(Math.round(2.5 * MB)),
    },
  }));
});
afterAll(async () => {
  await m?.stop();
});

const pdfOf = (size: number, fill: number) => {
  const b = Buffer.alloc(size, fill);
  b.write('%PDF-1.7\n', 0);
  return b;
};
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

/** Delivers an email and waits for its ticket and for its attachments (stored or noted) to be recorded. */
async function ticketFor(input: Parameters<MailStack['emulator']['deliverMessage']>[1], attachments: number) {
  const sent = m.emulator.deliverMessage(SUPPORT, input);
  const entry = await processed(m, mailbox.id, sent.internetMessageId, 60_000);
  expect(entry.status).toMatch(/ticket_created|ticket_updated/);
  return eventually(async () => {
    const t = await ticket(m, entry.ticketId);
    return t.attachments.length === attachments ? t : undefined;
  }, 60_000);
}

const download = (url: string, query = '') =>
  fetch(`${m.stack.apiUrl}${url}${query}`, { headers: { authorization: `Bearer ${m.stack.apiKey}` } });

test('file and inline attachments are stored and served; one past the per-attachment limit leaves a note', async () => {
  const pdf = pdfOf(2 * MB, 1);
  const t = await ticketFor(
    {
      from: 'Alice <alice@customer.test>',
      subject: 'Invoice dispute',
      bodyType: 'html',
      body: '<p>Invoice attached, and the error:</p><img src="cid:error-shot@alice">',
      attachments: [
        { name: 'invoice.pdf', content: pdf, contentType: 'application/pdf' },
        { name: 'error.png', content: PNG, contentType: 'image/png', isInline: true, contentId: 'error-shot@alice' },
        { name: 'logs.zip', content: Buffer.alloc(Math.round(3.5 * MB), 2), contentType: 'application/zip' },
      ],
    },
    3,
  );
  const byName = Object.fromEntries(t.attachments.map((a: { name: string }) => [a.name, a]));
  expect(byName['invoice.pdf']).toMatchObject({
    stored: true,
    size: pdf.length,
    contentType: 'application/pdf',
    inline: false,
  });
  expect(byName['error.png']).toMatchObject({ stored: true, inline: true, contentId: 'error-shot@alice' });
  expect(byName['logs.zip']).toMatchObject({ stored: false, url: null });
  expect(t.notes).toEqual([
    expect.objectContaining({
      text: expect.stringMatching(/"logs\.zip" \(3\.5 MB\).*over the 3\.0 MB limit per attachment/),
    }),
  ]);
  // The large PDF came streamed from $value; the inline image as JSON with its contentId.
  expect(m.emulator.stats().calls['GET /users/{id}/messages/{id}/attachments/{id}/$value']).toBeGreaterThanOrEqual(1);

  const message = t.messages[0];
  expect(message.attachments).toHaveLength(3);
  expect(message.renderedBody).toContain(`src="${byName['error.png'].url}"`);
  expect(message.renderedBody).not.toContain('cid:');

  const file = await download(byName['invoice.pdf'].url);
  expect(file.status).toBe(200);
  expect(file.headers.get('content-type')).toBe('application/pdf');
  expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="invoice\.pdf"/);
  expect(Buffer.from(await file.arrayBuffer()).equals(pdf)).toBe(true);
  const image = await download(byName['error.png'].url);
  expect(image.headers.get('content-type')).toBe('image/png');
  expect(image.headers.get('content-disposition')).toMatch(/^inline/);
  expect((await download(byName['error.png'].url, '?download=1')).headers.get('content-disposition')).toMatch(
    /^attachment/,
  );
  const notStored = await fetchJson(
    `${m.stack.apiUrl}${`/api/v1/tickets/${t.id}/attachments/${byName['logs.zip'].id}/content`}`,
    {
      headers: { authorization: `Bearer ${m.stack.apiKey}` },
    },
  );
  expect(notStored.status).toBe(404);
  expect(notStored.body.error.code).toBe('attachment_not_stored');
  const list = await m.stack.request('GET', `/api/v1/tickets/${t.id}/attachments`);
  expect(list.body.data).toHaveLength(3);
});

test('the per-email limit, and identical content stored once by hash', async () => {
  const big = pdfOf(Math.round(2.5 * MB), 3);
  const t = await ticketFor(
    {
      from: 'bob@customer.test',
      subject: 'Two scans',
      body: 'two scans attached',
      attachments: [
        { name: 'scan-1.pdf', content: big, contentType: 'application/pdf' },
        { name: 'scan-2.pdf', content: pdfOf(Math.round(2.5 * MB), 4), contentType: 'application/pdf' },
      ],
    },
    2,
  );
  expect(t.attachments.map((a: { name: string; stored: boolean }) => [a.name, a.stored])).toEqual([
    ['scan-1.pdf', true],
    ['scan-2.pdf', false],
  ]);
  expect(t.notes[0].text).toMatch(/"scan-2\.pdf" \(2\.5 MB\).*over the 4\.0 MB limit per email/);

  const again = await ticketFor(
    {
      from: 'carol@customer.test',
      subject: 'Same scan',
      body: 'forwarding',
      attachments: [{ name: 'copy.pdf', content: big }],
    },
    1,
  );
  expect(again.attachments[0].sha256).toBe(t.attachments[0].sha256);
  const blobs = await m.stack.db.query('SELECT count(*)::int AS n FROM attachment_blobs WHERE sha256 = $1', [
    t.attachments[0].sha256,
  ]);
  expect(blobs.rows[0].n).toBe(1);

  // Storing the same attachment of the same email again (a retried activity) changes nothing.
  const row = {
    ticketId: t.id,
    ticketMessageId: t.messages[0].id,
    graphAttachmentId: 'graph-attachment-1',
    name: 'retry.txt',
    contentType: 'text/plain',
    isInline: false,
    contentId: null,
  };
  const first = await storeAttachment(m.stack.db, row, Buffer.from('same bytes'));
  const second = await storeAttachment(m.stack.db, row, Buffer.from('same bytes'));
  expect(second.id).toBe(first.id);
});

test('a reply carries the attachments asked for; too much or unknown is refused', async () => {
  const pdf = pdfOf(MB, 5);
  const t = await ticketFor(
    {
      from: 'dave@customer.test',
      subject: 'Contract',
      body: 'please sign',
      attachments: [{ name: 'contract.pdf', content: pdf, contentType: 'application/pdf' }],
    },
    1,
  );
  const attachmentId = t.attachments[0].id;
  const reply = await m.stack.request('POST', `/api/v1/tickets/${t.id}/reply`, {
    body: 'Signed copy attached.',
    attachmentIds: [attachmentId],
  });
  expect(reply.status).toBe(202);
  expect(reply.body.attachments).toEqual([expect.objectContaining({ name: 'contract.pdf', stored: true })]);
  const sent = await eventually(async () =>
    m.emulator.sentMail().find((s) => JSON.stringify(s.message).includes('Signed copy attached.')),
  );
  const attachments = (sent.message as { attachments?: Array<{ name: string; contentBytes: string }> }).attachments;
  expect(attachments).toHaveLength(1);
  expect(attachments![0]!.name).toBe('contract.pdf');
  expect(Buffer.from(attachments![0]!.contentBytes, 'base64').equals(pdf)).toBe(true);

  const unknown = await m.stack.request('POST', `/api/v1/tickets/${t.id}/reply`, {
    body: 'x',
    attachmentIds: ['00000000-0000-4000-8000-000000000000'],
  });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.code).toBe('unknown_attachment');
  // The same attachment asked for twice goes once.
  const twice = await m.stack.request('POST', `/api/v1/tickets/${t.id}/reply`, {
    body: 'Once more.',
    attachmentIds: [attachmentId, attachmentId],
  });
  expect(twice.status).toBe(202);
  expect(twice.body.attachments).toHaveLength(1);
  const big = await ticketFor(
    {
      from: 'erin@customer.test',
      subject: 'Big',
      body: 'big',
      attachments: [{ name: 'big.pdf', content: pdfOf(Math.round(2.8 * MB), 6) }],
    },
    1,
  );
  const refused = await m.stack.request('POST', `/api/v1/tickets/${big.id}/reply`, {
    body: 'x',
    attachmentIds: [big.attachments[0].id],
  });
  expect(refused.status).toBe(413);
  expect(refused.body.error.code).toBe('attachments_too_large');
});

const VALUE_CALLS = 'GET /users/{id}/messages/{id}/attachments/{id}/$value';
const valueCalls = () => m.emulator.stats().calls[VALUE_CALLS] ?? 0;

test('too large or refused by Graph: a note, no retries, and the later attachments are still stored', async () => {
  const calls = valueCalls();
  const faults = m.emulator.stats().injectedFaults;
  const sent = m.emulator.deliverMessage(SUPPORT, {
    from: 'fred@customer.test',
    subject: 'Three files',
    body: 'three files',
    attachments: [
      { name: 'too-big.zip', content: Buffer.alloc(Math.round(3.5 * MB), 7) },
      { name: 'locked.pdf', content: pdfOf(Math.round(1.5 * MB), 8) },
      { name: 'last.pdf', content: pdfOf(Math.round(1.2 * MB), 9) },
    ],
  });
  m.emulator.failNext(10, 403, { match: `${encodeURIComponent(sent.attachments[1]!.id)}/$value`, method: 'GET' });
  const entry = await processed(m, mailbox.id, sent.internetMessageId, 60_000);
  const t = await eventually(async () => {
    const found = await ticket(m, entry.ticketId);
    return found.attachments.length === 3 ? found : undefined;
  }, 60_000);
  expect(t.attachments.map((a: { name: string; stored: boolean }) => [a.name, a.stored])).toEqual([
    ['too-big.zip', false],
    ['locked.pdf', false],
    ['last.pdf', true],
  ]);
  expect(t.notes.map((n: { text: string }) => n.text)).toEqual([
    expect.stringMatching(/"too-big\.zip" \(3\.5 MB\).*over the 3\.0 MB limit per attachment/),
    expect.stringMatching(/"locked\.pdf".*Microsoft Graph refused it \(403/),
  ]);
  // One download each: the too-large one abandoned mid-stream, the refused one not asked again.
  expect(valueCalls() - calls).toBe(3);
  expect(m.emulator.stats().injectedFaults - faults).toBe(1);
});

test('an inline image referenced as cid:%ZZ leaves the ticket readable', async () => {
  const t = await ticketFor(
    {
      from: 'gina@customer.test',
      subject: 'Broken link',
      bodyType: 'html',
      body: '<img src="cid:%ZZ"><img src="cid:ok%40gina">',
      attachments: [{ name: 'ok.png', content: PNG, contentType: 'image/png', isInline: true, contentId: 'ok@gina' }],
    },
    1,
  );
  expect(t.messages[0].renderedBody).toContain('src="cid:%ZZ"');
  expect(t.messages[0].renderedBody).toContain(`src="${t.attachments[0].url}"`);
});
