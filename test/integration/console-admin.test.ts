import type { Page } from 'playwright-core';
import { logIn, openConsoleBrowser, type ConsoleBrowser } from '../harness/console-browser';
import { eventually, startStack, type Stack } from '../harness/stack';
import { seedOverview, type Seed } from './stats-seed';

/**
 * The console's admin screens in a real browser (Debian's Chromium driven by playwright-core)
 * against the real API: the conditions editor and custom payload field picker round-trip
 * through the API, and the overview charts render the seeded figures. Screenshots land in
 * test-results/console/.
 */
let stack: Stack;
let seed: Seed;
let browser: ConsoleBrowser;
let page: Page;

const shot = (name: string) => browser.shot(name);

beforeAll(async () => {
  stack = await startStack();
  seed = await seedOverview(stack);
  browser = await openConsoleBrowser();
  page = browser.page;
  await logIn(page, stack.apiUrl, stack.apiKey);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const words = () => page.locator('[data-event="ticket.changed"] .condition-words').allTextContents();
const pickerRow = (field: string) => page.locator(`#field-picker tr[data-field="${field}"]`);

test('conditions and custom payload fields made in the form are what the API stores, and the form reopens the same', async () => {
  await page.goto(`${stack.apiUrl}/console/#/webhooks/new`);
  await page.waitForSelector('#webhook-form');
  await page.fill('#name', 'Urgent tickets');
  await page.fill('#url', 'http://127.0.0.1:9/urgent');
  await page.check('input[name=event][value="ticket.changed"]');

  const card = page.locator('[data-event="ticket.changed"]');
  await card.locator('[data-c=add]').click();
  const first = card.locator('.condition-row').nth(0);
  await first.locator('[data-c=field]').selectOption('priority');
  await first.locator('[data-c=operator]').selectOption('in');
  await first.locator('[data-c=value]').fill('P1, P2');
  await card.locator('[data-c=add]').click();
  const second = card.locator('.condition-row').nth(1);
  await second.locator('[data-c=field]').selectOption('status');
  await second.locator('[data-c=operator]').selectOption('changed');
  expect(await second.locator('[data-c=value]').isHidden()).toBe(true);
  await card.locator('[data-c=match]').selectOption('any');
  expect(await words()).toEqual(['Priority is one of P1, P2', 'Status changed']);
  await shot('11-webhook-conditions-editor');

  await page.selectOption('#payload', 'custom');
  await page.waitForSelector('#field-picker tr[data-field="summary"]');
  // "Send ID instead of display value" is offered on single selects only.
  expect(await pickerRow('priority').locator('[data-p=send-id]').count()).toBe(1);
  expect(await pickerRow('summary').locator('[data-p=send-id]').count()).toBe(0);
  expect(await pickerRow('tags').locator('[data-p=send-id]').count()).toBe(0);
  expect(await pickerRow('slaBreached').locator('[data-p=send-id]').count()).toBe(0);
  await pickerRow('summary').locator('[data-p=include]').check();
  await pickerRow('priority').locator('[data-p=include]').check();
  await pickerRow('priority').locator('[data-p=send-id]').check();
  await pickerRow('slaBreached').locator('[data-p=include]').check();
  await shot('12-webhook-field-picker');

  await page.click('#save');
  await page.waitForURL(/#\/webhooks\/[0-9a-f-]{36}$/);
  // Let the webhook page finish drawing before moving on, so it cannot paint over the next page.
  await page.waitForSelector('#deliveries table');
  const id = page.url().split('/').pop()!;
  const stored = (await stack.request('GET', `/api/v1/webhooks/${id}`)).body;
  expect(stored.events).toEqual([
    {
      type: 'ticket.changed',
      name: 'Ticket Changed',
      match: 'any',
      conditions: [
        { field: 'priority', operator: 'in', value: ['P1', 'P2'] },
        { field: 'status', operator: 'changed' },
      ],
    },
  ]);
  expect(stored.payload).toEqual({
    type: 'custom',
    fields: [
      { field: 'summary', sendId: false },
      { field: 'priority', sendId: true },
      { field: 'slaBreached', sendId: false },
    ],
  });

  // Reopened, the form shows the same; saved again untouched, the API keeps the same.
  await page.goto(`${stack.apiUrl}/console/#/webhooks/${id}/edit`);
  await page.waitForSelector('[data-event="ticket.changed"] .condition-row');
  expect(await words()).toEqual(['Priority is one of P1, P2', 'Status changed']);
  expect(await page.locator('[data-event="ticket.changed"] [data-c=match]').inputValue()).toBe('any');
  expect(await page.isVisible('#payload-fields')).toBe(true);
  const checkedRows = page.locator('#field-picker tr[data-field]:has([data-p=include]:checked)');
  const included = await Promise.all((await checkedRows.all()).map((r) => r.getAttribute('data-field')));
  expect(included).toEqual(['summary', 'priority', 'slaBreached']);
  expect(await pickerRow('priority').locator('[data-p=send-id]').isChecked()).toBe(true);
  await shot('13-webhook-form-reopened');
  await page.click('#save');
  await page.waitForURL(new RegExp(`#/webhooks/${id}$`));
  await page.waitForSelector('#deliveries table');
  const again = (await stack.request('GET', `/api/v1/webhooks/${id}`)).body;
  expect({ events: again.events, payload: again.payload }).toEqual({ events: stored.events, payload: stored.payload });
});

test('the webhook page shows its delivery lane when the API has one, and nothing otherwise', async () => {
  await page.goto(`${stack.apiUrl}/console/#/webhooks/${seed.webhookA.id}`);
  await page.waitForSelector('#deliveries table');
  const lane = await stack.request('GET', `/api/v1/webhooks/${seed.webhookA.id}/lane`);
  if (lane.status === 200) {
    await page.waitForSelector('#lane:not([hidden]) dd');
    for (const key of Object.keys(lane.body))
      expect(await page.locator(`#lane [data-lane^="${key}"]`).count()).toBeGreaterThan(0);
  } else {
    expect(lane.status).toBe(404);
    expect(await page.isHidden('#lane')).toBe(true);
  }
  await shot('14-webhook-page-lane');
});

test('the overview charts the seeded deliveries, incoming webhooks, backlog, mailbox expiry and errors', async () => {
  await page.goto(`${stack.apiUrl}/console/#/overview`);
  for (const chart of ['#chart-deliveries', '#chart-latency', '#chart-incoming']) {
    await page.waitForSelector(`${chart}[data-rendered] canvas`);
  }
  const legend = (chart: string, key: string) => page.locator(`${chart} [data-legend="${key}"]`).textContent();
  expect(await legend('#chart-deliveries', 'succeeded')).toBe('7');
  expect(await legend('#chart-deliveries', 'failed')).toBe('2');
  expect(await legend('#chart-deliveries', 'held')).toBe('1');
  expect(await legend('#chart-latency', 'p50')).toBe('400 ms');
  expect(await legend('#chart-latency', 'p95')).toBe('3800 ms');
  expect(await legend('#chart-incoming', 'succeeded')).toBe('3');
  expect(await legend('#chart-incoming', 'failed')).toBe('2');
  expect(await page.textContent('#backlog-incoming .tile-value')).toBe('1');
  expect(await page.textContent(`[data-mailbox="${seed.mailboxId}"] .expiry`)).toMatch(/^(2\.0|1\.9) h$/);
  await page.waitForSelector('#errors tbody tr');
  expect(await page.locator('#errors tbody tr').count()).toBe(6);
  expect(await page.textContent('#per-webhook')).toContain(seed.webhookA.name);
  await shot('15-overview');

  // Hovering an hour shows that hour's figures in the legend. The seeded hour is the newest bar,
  // or the one before it when the clock has since passed the hour: walk left from the right edge.
  const box = (await page.locator('#chart-deliveries .u-over').boundingBox())!;
  const hovered = page.locator('#chart-deliveries [data-legend-when]');
  for (let x = box.x + box.width - 4; x > box.x; x -= box.width / 50) {
    await page.mouse.move(x, box.y + box.height / 2);
    if ((await hovered.getAttribute('data-hour')) === seed.hourStart.toISOString()) break;
  }
  expect(await hovered.getAttribute('data-hour')).toBe(seed.hourStart.toISOString());
  expect(await legend('#chart-deliveries', 'succeeded')).toBe('5');
  expect(await legend('#chart-deliveries', 'inProgress')).toBe('1');

  await page.selectOption('#webhook-filter', seed.webhookB.id);
  await eventually(async () => (await legend('#chart-deliveries', 'succeeded')) === '1');
  expect(await legend('#chart-latency', 'p50')).toBe('5000 ms');
  await shot('16-overview-one-webhook');
});
