import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { startXeroEmulator, type XeroEmulator } from '../emulators/xero';
import { logIn, openConsoleBrowser, type ConsoleBrowser } from '../harness/console-browser';
import { freePort } from '../harness/free-port';
import { startStack, type Stack } from '../harness/stack';
import { createConnectableXero, sendInvoiceUpdated, webhookIn, XERO_CLIENT } from './incoming-helpers';

/**
 * "Connect to Xero" in a real browser against the Xero emulator: the console's Connect button,
 * Xero's consent page, the organisation chooser, then a webhook processed with the new tokens.
 * Screenshots land in test-results/console/.
 */
const NORTHWIND = randomUUID();
const CONTOSO = randomUUID();
let stack: Stack;
let xero: XeroEmulator;
let browser: ConsoleBrowser;
let page: Page;

const shot = (name: string) => browser.shot(name);

beforeAll(async () => {
  xero = await startXeroEmulator({
    clients: [{ ...XERO_CLIENT, name: 'Switchyard' }],
    tenants: [
      { tenantId: NORTHWIND, name: 'Northwind Traders' },
      { tenantId: CONTOSO, name: 'Contoso Pty' },
    ],
  });
  const port = await freePort();
  stack = await startStack({
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    RATE_LIMIT_REQUESTS: '0',
  });
  browser = await openConsoleBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await xero?.stop();
});

test('Connect to Xero: consent, choose the organisation, a webhook is processed with the new tokens, then disconnect', async () => {
  const { id } = await createConnectableXero(stack, xero, { name: 'Xero accounts' });

  await logIn(page, stack.apiUrl, stack.apiKey);
  await page.goto(`${stack.apiUrl}/console/#/integrations/${id}`);
  await page.waitForSelector('#connect');
  expect(await page.textContent('#connection')).toMatch(/Not connected/);
  await shot('connect-01-xero-not-connected');

  await page.click('#connect');
  // Xero's consent page (the emulator's): the app, the scopes, the organisations.
  await page.waitForSelector('#allow');
  expect(page.url().startsWith(`${xero.url}/identity/connect/authorize?`)).toBe(true);
  expect(await page.textContent('body')).toContain('Northwind Traders');
  await shot('connect-02-xero-consent');
  await page.click('#allow');

  // Back in the console: two organisations were connected, so it asks which one to process.
  await page.waitForURL(new RegExp(`/console/#/integrations/${id}$`));
  await page.waitForSelector('#tenant');
  expect(await page.textContent('#connection')).toMatch(/Choose the Xero organisation/);
  await shot('connect-03-choose-organisation');
  await page.selectOption('#tenant', NORTHWIND);
  await page.click('#choose-tenant');
  await page.locator('#connected-tenant', { hasText: NORTHWIND }).waitFor();
  expect(await page.textContent('#connection')).toMatch(/by signing in/);
  await shot('connect-04-connected');

  const { invoice, sent } = await sendInvoiceUpdated(stack, xero, id, NORTHWIND, {
    Total: 480,
    Reference: 'after connect',
  });
  expect(sent.status).toBe(200);
  const webhookId = sent.ids[0]!;
  const detail = await webhookIn(stack, webhookId, ['succeeded', 'failed']);
  expect(detail).toMatchObject({ status: 'succeeded', entityId: invoice.InvoiceID });
  // The tokens that fetched the invoice came from the consent, not from a pasted refresh token.
  expect(xero.stats().tokenGrantsByType['authorization_code']).toBe(1);
  await page.goto(`${stack.apiUrl}/console/#/incoming/${webhookId}`);
  await page.locator('#tab', { hasText: 'invoice.updated' }).waitFor();
  expect(await page.textContent('#tab')).toContain(invoice.InvoiceID);
  await shot('connect-05-webhook-processed');

  await page.goto(`${stack.apiUrl}/console/#/integrations/${id}`);
  await page.waitForSelector('#disconnect');
  page.once('dialog', (d) => void d.accept());
  await page.click('#disconnect');
  await page.locator('#connection', { hasText: 'Not connected' }).waitFor();
  expect(xero.stats().revocations).toBe(1);
  await shot('connect-06-disconnected');
});

test('a forwarded consent link opened in another browser is refused; the one that started it still finishes', async () => {
  const { id } = await createConnectableXero(stack, xero, { name: 'Xero (forwarded link)' });

  // The admin's browser: its own profile, signed in to the console.
  const admin = await browser.newPage();
  await logIn(admin, stack.apiUrl, stack.apiKey);
  await admin.goto(`${stack.apiUrl}/console/#/integrations/${id}`);
  await admin.waitForSelector('#connect');
  await admin.click('#connect');
  await admin.waitForSelector('#allow');
  const consentUrl = admin.url();

  // Someone else (a fresh browser profile: no cookies) opens the forwarded link and agrees.
  const other = await browser.newPage();
  await other.goto(consentUrl);
  await other.click('#allow');
  await other.waitForSelector('h1');
  expect(await other.textContent('h1')).toBe('Connection failed');
  expect(await other.textContent('body')).toMatch(/only works in the browser that started it/);
  await shot('connect-07-forwarded-link-refused');
  await other.close();
  expect((await stack.request('GET', `/api/v1/integrations/${id}/connection`)).body.connected).toBe(false);

  // The admin's own browser, which has the cookie, completes the same sign-in.
  await admin.click('#allow');
  await admin.waitForURL(new RegExp(`/console/#/integrations/${id}$`));
  await admin.waitForSelector('#tenant');
  expect((await stack.request('GET', `/api/v1/integrations/${id}/connection`)).body.connected).toBe(true);
  await admin.close();
});
