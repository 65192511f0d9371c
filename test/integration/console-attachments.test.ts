import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Page } from 'playwright-core';
import { logIn, openConsoleBrowser, type ConsoleBrowser } from '../harness/console-browser';
import { eventually } from '../harness/stack';
import { createSubscribedMailbox, processed, startMailStack, SUPPORT, ticket, type MailStack } from './mailbox-helpers';

/**
 * An email with a 2 MB PDF and an inline image becomes a ticket showing both, in a real browser
 * (Debian's Chromium driven by playwright-core). Screenshots land in test-results/console/.
 */
let m: MailStack;
let browser: ConsoleBrowser;
let page: Page;
let mailbox: { id: string };

const shot = (name: string) => browser.shot(name);

/** A solid-colour RGB PNG, made here so the test needs no binary fixture. */
function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => rgb[i % 3]!)]);
  const pixels = zlib.deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

beforeAll(async () => {
  m = await startMailStack({ env: { MAIL_ATTACHMENT_MAX_BYTES: String(3 * 1024 * 1024) } });
  mailbox = await createSubscribedMailbox(m);
  browser = await openConsoleBrowser({ acceptDownloads: true });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await m?.stop();
});

test('an email with a 2 MB PDF and an inline image becomes a ticket showing both', async () => {
  const pdf = Buffer.alloc(2 * 1024 * 1024, 0x20);
  pdf.write('%PDF-1.4\n% a 2 MB test document\n', 0);
  const sent = m.emulator.deliverMessage(SUPPORT, {
    from: 'Alice Customer <alice@customer.test>',
    subject: 'Invoice 1042 is wrong',
    bodyType: 'html',
    body: '<p>Hello, the invoice is attached. Here is the error I see:</p><p><img src="cid:error-shot@alice" alt="error screenshot" width="240" height="120"></p><p>Alice</p>',
    attachments: [
      { name: 'invoice-1042.pdf', content: pdf, contentType: 'application/pdf' },
      {
        name: 'error.png',
        content: png(240, 120, [200, 40, 40]),
        contentType: 'image/png',
        isInline: true,
        contentId: 'error-shot@alice',
      },
      { name: 'full-log.zip', content: Buffer.alloc(3_600_000, 1), contentType: 'application/zip' },
    ],
  });
  const entry = await processed(m, mailbox.id, sent.internetMessageId, 60_000);
  expect(entry.status).toBe('ticket_created');
  await eventually(async () => (await ticket(m, entry.ticketId)).attachments.length === 3, 60_000);

  await logIn(page, m.stack.apiUrl, m.stack.apiKey);
  await page.goto(`${m.stack.apiUrl}/console/#/tickets/${entry.ticketId}`);
  await page.waitForSelector('a.attachment-link');

  // Both attachments are listed; the inline image renders inside the message body.
  const links = page.locator('a.attachment-link');
  expect(await links.allTextContents()).toEqual([
    expect.stringContaining('invoice-1042.pdf'),
    expect.stringContaining('error.png'),
  ]);
  expect(await page.locator('ul.attachments').textContent()).toMatch(/application\/pdf · 2\.0 MB/);
  // The one over the limit is named, with its size, in a note on the ticket.
  expect(await page.locator('.note').textContent()).toMatch(/"full-log\.zip" \(3\.4 MB\).*limit per attachment/);
  const body = page.frameLocator('iframe.mail-body');
  await eventually(async () =>
    body.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth === 240),
  );
  expect(await body.locator('img').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
  // The frame's look comes from its stylesheet file (the console's CSP allows no inline style).
  const fontSize = await body
    .locator('body')
    .evaluate(
      (b) =>
        (globalThis as unknown as { getComputedStyle: (e: unknown) => { fontSize: string } }).getComputedStyle(b)
          .fontSize,
    );
  expect(fontSize).toBe('14px');
  await shot('mail-01-ticket-attachments');

  const [download] = await Promise.all([page.waitForEvent('download'), links.first().click()]);
  expect(download.suggestedFilename()).toBe('invoice-1042.pdf');
  const saved = path.resolve(__dirname, '..', '..', 'test-results', 'downloaded-invoice.pdf');
  await download.saveAs(saved);
  expect(fs.readFileSync(saved).equals(pdf)).toBe(true);
  fs.rmSync(saved);
});

test('a mailbox can be disabled and enabled from its page', async () => {
  await page.goto(`${m.stack.apiUrl}/console/#/mailboxes/${mailbox.id}`);
  await page.waitForSelector('#enabled');
  expect(await page.isChecked('#enabled')).toBe(true);
  await page.uncheck('#enabled');
  await eventually(
    async () => (await m.stack.request('GET', `/api/v1/mailboxes/${mailbox.id}`)).body.enabled === false,
  );
  // A full load (not a hash change), so the toggle page's pending refresh cannot redraw over the list.
  await page.goto('about:blank');
  await page.goto(`${m.stack.apiUrl}/console/#/mailboxes`);
  await page.waitForSelector('.badge.disabled');
  await shot('mail-02-mailboxes-disabled');
  await page.goto('about:blank');
  await page.goto(`${m.stack.apiUrl}/console/#/mailboxes/${mailbox.id}`);
  await page.waitForSelector('#enabled');
  expect(await page.isChecked('#enabled')).toBe(false);
  await page.check('#enabled');
  await eventually(async () => (await m.stack.request('GET', `/api/v1/mailboxes/${mailbox.id}`)).body.enabled === true);
  await shot('mail-03-mailbox-enabled-toggle');
});

test('the ticket view and mailbox pages ran without a Content-Security-Policy violation', () => {
  expect(browser.cspViolations).toEqual([]);
});
