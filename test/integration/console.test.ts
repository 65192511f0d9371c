import type { Page } from 'playwright-core';
import { openConsoleBrowser, type ConsoleBrowser } from '../harness/console-browser';
import { Receiver } from '../harness/receiver';
import { eventually } from '../harness/stack';
import { createMailbox, inboundLog, startMailStack, subscribe, SUPPORT, type MailStack } from './mailbox-helpers';

/**
 * The operator console in a real browser (Debian's Chromium driven by playwright-core),
 * against the real API and worker. Screenshots of the main pages land in test-results/console/.
 */
let m: MailStack;
let receiver: Receiver;
let browser: ConsoleBrowser;
let page: Page;

const shot = (name: string) => browser.shot(name);

beforeAll(async () => {
  receiver = await Receiver.start();
  m = await startMailStack();
  browser = await openConsoleBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await m?.stop();
  await receiver?.close();
});

test('log in, create a webhook through the form (after a validation error), see a delivery, resend it, open its workflow', async () => {
  const { stack } = m;
  await page.goto(`${stack.apiUrl}/`);
  await page.waitForURL(/#\/login$/);
  await page.fill('#key', 'sy_key_wrong');
  await page.click('button[type=submit]');
  await page.waitForSelector('#login-error .error-box');
  await page.fill('#key', stack.apiKey);
  await page.click('button[type=submit]');
  await page.waitForURL(/#\/webhooks$/);
  await shot('01-webhooks-empty');

  await page.click('#new-webhook');
  await page.waitForSelector('#webhook-form');
  await page.fill('#name', 'Ticket feed');
  await page.fill('#url', receiver.url('/console-hook'));
  await page.click('#save');
  const error = await page.waitForSelector('#form-error .error-box');
  expect(await error.textContent()).toMatch(/event/i);
  await shot('02-webhook-form-validation-error');

  await page.check('input[name=event][value="ticket.created"]');
  await page.click('#save');
  await page.waitForURL(/#\/webhooks\/[0-9a-f-]{36}$/);
  const webhookId = page.url().split('/').pop()!;

  const emitted = await stack.request('POST', '/api/v1/events', {
    type: 'New Ticket Logged',
    objectId: 'T-100',
    object: { fields: { summary: 'Printer on fire', status: { id: 1, display: 'New' } } },
  });
  expect(emitted.status).toBe(202);
  await receiver.waitFor('/console-hook', 1);
  await eventually(async () => {
    await page.click('#refresh');
    return (await page.locator('.delivery-link').count()) === 1;
  });
  await shot('03-webhook-deliveries');

  await page.click('.delivery-link');
  await page.waitForSelector('.attempt');
  await shot('04-delivery-detail');
  await page.click('#resend');
  await receiver.waitFor('/console-hook', 2);
  const delivery = (await stack.request('GET', `/api/v1/webhooks/${webhookId}/deliveries`)).body.data[0];
  expect(delivery.resendCount).toBe(1);

  const link = await page.locator('a.workflow-link').first().getAttribute('href');
  expect(link).toContain(`/namespaces/default/workflows/${encodeURIComponent(delivery.workflowId)}`);
  const ui = await browser.newPage();
  await ui.goto(link!);
  await ui.waitForSelector(`text=${delivery.workflowId}`, { timeout: 30_000 });
  await browser.shot('05-temporal-ui-workflow', ui);
  await ui.close();
});

test('retry an incoming webhook from its page', async () => {
  const { stack } = m;
  receiver.script('/relay', { status: 500, body: 'down' });
  const integration = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'Relay',
    settings: { forwardUrl: receiver.url('/relay') },
  });
  const { signStandardWebhook } = await import('../emulators/webhook-sender');
  const body = JSON.stringify({ type: 'Invoice updated', id: 'INV-9' });
  const sent = await fetch(`${stack.apiUrl}/hooks/generic/${integration.body.id}`, {
    method: 'POST',
    headers: { ...signStandardWebhook(body, integration.body.signingSecret) },
    body,
  });
  const { id } = (await sent.json()) as { id: string };
  await eventually(
    async () => (await stack.request('GET', `/api/v1/incoming-webhooks/${id}`)).body.status === 'failed',
  );

  await page.goto(`${stack.apiUrl}/console/#/incoming`);
  await page.waitForSelector(`a[href="#/incoming/${id}"]`);
  await shot('06-incoming-log');
  await page.click(`a[href="#/incoming/${id}"]`);
  await page.waitForSelector('#retry');
  await page.click(`a[href="#/incoming/${id}/attempts"]`);
  await page.waitForSelector('.card');
  receiver.script('/relay', { status: 200, body: 'ok' });
  await page.click('#retry');
  await eventually(
    async () => (await stack.request('GET', `/api/v1/incoming-webhooks/${id}`)).body.status === 'succeeded',
    30_000,
  );
  await page.goto(`${stack.apiUrl}/console/#/incoming/${id}/details`);
  await page.waitForSelector('.badge.succeeded');
  await shot('07-incoming-detail-after-retry');
});

test("read a mailbox's inbound log", async () => {
  const mailbox = await createMailbox(m);
  await subscribe(m, mailbox.id);
  m.emulator.deliverMessage(SUPPORT, {
    from: 'Alice <alice@customer.test>',
    subject: 'VPN is down',
    body: 'Since 9am',
    uniqueBody: 'Since 9am',
  });
  await eventually(
    async () => (await inboundLog(m, mailbox.id)).some((e: { status: string }) => e.status === 'ticket_created'),
    30_000,
  );

  await page.goto(`${m.stack.apiUrl}/console/#/mailboxes/${mailbox.id}`);
  await page.waitForSelector('.mail-link');
  expect(await page.textContent('#log')).toContain('VPN is down');
  expect(await page.textContent('#expires')).not.toBe('—');
  await shot('08-mailbox-inbound-log');
  // The mailbox page refreshes itself while a subscription is being set up: follow the link's
  // address rather than clicking an element that may be re-rendered under the pointer.
  const mailHref = await page.getAttribute('.mail-link', 'href');
  await page.goto(`${m.stack.apiUrl}/console/${mailHref}`);
  await page.waitForSelector('#requests .card');
  await shot('09-mail-requests');
  // A fresh load of the tickets page (not a same-document hash change), retried until the list shows it.
  await eventually(async () => {
    await page.goto('about:blank');
    await page.goto(`${m.stack.apiUrl}/console/#/tickets`);
    await page.waitForSelector('#list table', { timeout: 5000 });
    return (await page.textContent('#list'))?.includes('VPN is down');
  }, 30_000);
  await shot('10-tickets');
});

test('a page still loading when the operator moves on does not replace the page moved to', async () => {
  const mailbox = await createMailbox(m, { name: 'Slow mailbox' });
  // The mailbox's answer is held back, as on a slow network, until the tickets page is showing.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const mailboxUrl = `**/api/v1/mailboxes/${mailbox.id}`;
  await page.route(mailboxUrl, async (route) => {
    await held;
    await route.continue();
  });
  try {
    await page.goto(`${m.stack.apiUrl}/console/#/mailboxes/${mailbox.id}`);
    await page.goto(`${m.stack.apiUrl}/console/#/tickets`);
    await page.waitForSelector('#list table');
    const answered = page.waitForResponse((r) => r.url().endsWith(`/api/v1/mailboxes/${mailbox.id}`));
    release();
    await answered;
    // Let the late answer's render run (it would replace the page within a task or two).
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 300)));
    expect(await page.textContent('main h1')).toBe('Tickets');
    expect(await page.textContent('main')).not.toContain('Slow mailbox');
  } finally {
    await page.unroute(mailboxUrl);
  }
});

test('the console runs under its Content-Security-Policy without a single violation', async () => {
  const res = await page.request.get(`${m.stack.apiUrl}/console/`);
  expect(res.headers()['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
  expect(res.headers()['x-content-type-options']).toBe('nosniff');
  // Every page the tests above opened: a blocked inline script or style would be listed here.
  expect(browser.cspViolations).toEqual([]);
});
