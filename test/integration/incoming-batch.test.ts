import { randomUUID } from 'node:crypto';
import type { XeroEmulator } from '../emulators/xero';
import { buildXeroPayload, type XeroEventInput } from '../emulators/webhook-sender';
import { eventually, startStack, type Stack } from '../harness/stack';
import { allIn, createXeroIntegration, resetEmulator, sendXero, startXero, xeroConsent } from './incoming-helpers';

// The delayed method: a burst for one Xero tenant, batched into `?IDs=` calls of 50 under a
// budget shrunk (here and in the emulator) so the minute window has to roll during the test.
const LIMITS = { perMinute: 10, concurrent: 2, perDay: 5000 };
let stack: Stack;
let xero: XeroEmulator;

beforeAll(async () => {
  ({ xero } = await startXero(randomUUID(), { limits: LIMITS }));
  stack = await startStack({
    RATE_LIMIT_REQUESTS: '0',
    INBOUND_BATCH_WAIT_SECONDS: '1',
    INBOUND_BATCH_MAX_ITEMS: '200',
    INBOUND_BATCH_MAX_FLUSHES_PER_RUN: '2',
    INBOUND_ACTIVITY_TIMEOUT_SECONDS: '10',
  });
});
afterAll(async () => {
  await stack?.stop();
  await xero?.stop();
});
beforeEach(() => resetEmulator(xero));

async function delayedIntegration(tenantId: string, batchWaitSeconds = 1) {
  xero.addTenant(tenantId);
  return createXeroIntegration(stack, xero, await xeroConsent(xero), {
    processingMethod: 'service_delayed',
    settings: { rateLimits: LIMITS, batchWaitSeconds },
  });
}

/** Sends `events` in POSTs of `perPost`, a few at a time, as Xero's sender would; returns the webhook ids. */
async function burst(integrationId: string, events: XeroEventInput[], perPost = 10, parallel = 8): Promise<string[]> {
  const posts: XeroEventInput[][] = [];
  for (let i = 0; i < events.length; i += perPost) posts.push(events.slice(i, i + perPost));
  const ids: string[] = [];
  for (let i = 0; i < posts.length; i += parallel) {
    const answers = await Promise.all(
      posts.slice(i, i + parallel).map((p) => sendXero(stack, integrationId, buildXeroPayload(p))),
    );
    for (const a of answers) {
      expect([a.status, a.body]).toEqual([200, '']);
      ids.push(...a.ids);
    }
  }
  return ids;
}

const invoiceEvents = (tenantId: string, n: number) =>
  Array.from({ length: n }, () => xero.upsertInvoice(tenantId, {})).map((inv) => ({
    resourceId: inv.InvoiceID,
    tenantId,
    eventCategory: 'INVOICE' as const,
  }));

test('a burst of 600 webhooks finishes with no failures, no 429s, 50 ids per call and the concurrency kept', async () => {
  const tenant = randomUUID();
  const integration = await delayedIntegration(tenant, 3);
  const started = Date.now();
  const ids = await burst(integration.id, invoiceEvents(tenant, 600), 100, 6);
  expect(ids).toHaveLength(600);

  const rows = await allIn(stack, ids, ['succeeded', 'failed', 'stale'], 150_000);
  expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
  expect(rows.every((r) => r.attempts_made === 1)).toBe(true);
  const stats = xero.stats();
  // 600 distinct invoices at 50 per call is 12 calls; a flush cut mid-burst may add one or two.
  expect(stats.callsByEndpoint['GET /Invoices']).toBeGreaterThanOrEqual(12);
  expect(stats.callsByEndpoint['GET /Invoices']).toBeLessThanOrEqual(15);
  expect(stats.idsRequested).toBe(600);
  expect(stats.rateLimited).toEqual({ minute: 0, day: 0, concurrent: 0, appminute: 0 });
  expect(stats.maxConcurrencyByTenant[tenant]).toBeLessThanOrEqual(LIMITS.concurrent);
  // 12 calls at 10 a minute: the last two had to wait for the window to roll.
  expect(Date.now() - started).toBeGreaterThan(55_000);

  // Three flushes of 200 at two flushes per run: the batch workflow continued as new.
  const runs = [];
  for await (const wf of stack.temporal.workflow.list({
    query: `WorkflowId = 'inbound-batch:${integration.id}:${tenant}'`,
  })) {
    runs.push(wf.runId);
  }
  expect(runs.length).toBeGreaterThanOrEqual(2);
}, 200_000);

test('a provider 429 in a batch delays the chunk by Retry-After; nothing fails and no attempt is spent', async () => {
  const tenant = randomUUID();
  const integration = await delayedIntegration(tenant);
  xero.failNext(1, 429, { retryAfter: 2, problem: 'minute' });
  const ids = await burst(integration.id, invoiceEvents(tenant, 100));
  const rows = await allIn(stack, ids, ['succeeded', 'failed', 'stale']);
  expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
  expect(rows.every((r) => r.attempts_made === 1)).toBe(true);
  expect(xero.stats().faultsInjected).toBe(1);
  // The refused call counted no ids: every invoice was fetched exactly once, after the wait.
  expect(xero.stats().idsRequested).toBe(100);
});

test('a chunk that fails is queued again with backoff and succeeds on its second attempt', async () => {
  const tenant = randomUUID();
  const integration = await delayedIntegration(tenant);
  xero.failNext(1, 500);
  const ids = await burst(integration.id, invoiceEvents(tenant, 80));
  const rows = await allIn(stack, ids, ['succeeded', 'failed', 'stale']);
  expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
  // Exactly one chunk (at most 50 webhooks) failed once and was retried; the rest went through first time.
  const twice = rows.filter((r) => r.attempts_made === 2).length;
  expect(twice).toBeGreaterThan(0);
  expect(twice).toBeLessThanOrEqual(50);
  expect(rows.filter((r) => r.attempts_made === 1)).toHaveLength(80 - twice);
  const retried = rows.find((r) => r.attempts_made === 2)!;
  const detail = await stack.request('GET', `/api/v1/incoming-webhooks/${retried.id}`);
  expect(detail.body.attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'succeeded']);
  expect(detail.body.attempts[0].error).toMatch(/Xero answered 500/);
  expect(detail.body.workflowId).toBe(`inbound-batch:${integration.id}:${tenant}`);
});

test('a worker killed while a batch chunk is in flight: the chunk is redone on restart, no attempt spent', async () => {
  const tenant = randomUUID();
  const integration = await delayedIntegration(tenant);
  xero.setLatency(4000);
  try {
    const ids = await burst(integration.id, invoiceEvents(tenant, 60));
    await eventually(async () => {
      const { rows } = await stack.db.query(
        "SELECT count(*) AS n FROM incoming_webhooks WHERE id = ANY($1) AND status = 'processing'",
        [ids],
      );
      return Number(rows[0].n) > 0;
    });
    expect(await stack.worker.stop('SIGKILL')).toBeNull();
    xero.setLatency(0);
    await stack.worker.start(/worker running/);
    const rows = await allIn(stack, ids, ['succeeded', 'failed', 'stale'], 90_000);
    expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(rows.every((r) => r.attempts_made === 1)).toBe(true);
    const detail = await stack.request('GET', `/api/v1/incoming-webhooks/${ids[0]}`);
    // One business attempt; the log tells both executions apart: the one the kill cut short, and the re-run.
    const attempts = detail.body.attempts as Array<{ attempt: number; status: string; rerun: boolean }>;
    expect(attempts.every((a) => a.attempt === 1)).toBe(true);
    expect(attempts.filter((a) => a.status === 'succeeded')).toHaveLength(1);
    expect(attempts.filter((a) => a.status !== 'succeeded').every((a) => a.status === 'abandoned')).toBe(true);
  } finally {
    xero.setLatency(0);
  }
}, 120_000);
