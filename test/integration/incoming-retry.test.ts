import { randomUUID } from 'node:crypto';
import type { XeroEmulator } from '../emulators/xero';
import { buildXeroPayload } from '../emulators/webhook-sender';
import { startStack, type Stack } from '../harness/stack';
import {
  allIn,
  createXeroIntegration,
  resetEmulator,
  sendXero,
  startXero,
  webhookIn,
  xeroConsent,
} from './incoming-helpers';

const TENANT = randomUUID();
let stack: Stack;
let xero: XeroEmulator;

beforeAll(async () => {
  ({ xero } = await startXero(TENANT));
  stack = await startStack({ RATE_LIMIT_REQUESTS: '0', INBOUND_BATCH_WAIT_SECONDS: '1' });
});
afterAll(async () => {
  await stack?.stop();
  await xero?.stop();
});
beforeEach(() => resetEmulator(xero));

/** Sends one webhook per invoice while the emulator fails, and waits until they have all failed. */
async function failedWebhooks(integrationId: string, n: number) {
  const invoices = Array.from({ length: n }, (_, i) => xero.upsertInvoice(TENANT, { Reference: `v1-${i}` }));
  xero.failNext(n, 500);
  const ids: string[] = [];
  for (const inv of invoices) {
    const res = await sendXero(
      stack,
      integrationId,
      buildXeroPayload([{ resourceId: inv.InvoiceID, tenantId: TENANT, eventCategory: 'INVOICE' }]),
    );
    ids.push(...res.ids);
  }
  const rows = await allIn(stack, ids, ['failed', 'succeeded']);
  expect(rows.map((r) => r.status)).toEqual(Array(n).fill('failed'));
  xero.clearFaults();
  return { ids, invoices };
}

test('a single retry runs one more attempt in its own workflow, with freshly downloaded data', async () => {
  const integration = await createXeroIntegration(stack, xero, await xeroConsent(xero));
  const { ids, invoices } = await failedWebhooks(integration.id, 1);
  const [id] = ids as [string];
  // The invoice changed while the webhook sat failed; the retry must see the new version.
  xero.upsertInvoice(TENANT, { InvoiceID: invoices[0]!.InvoiceID, Reference: 'v2' });

  const res = await stack.request('POST', `/api/v1/incoming-webhooks/${id}/retry`);
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ outcome: 'queued', attempt: 2, workflowId: expect.stringMatching(/:retry-1$/) });
  const detail = await webhookIn(stack, id, ['succeeded', 'failed']);
  expect(detail.status).toBe('succeeded');
  expect(detail.attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'succeeded']);
  expect(detail.automaticAttemptsRemaining).toBe(0);
  expect(detail.manualRetries).toBe(1);
  expect(detail.workflowId).toBe(res.body.workflowId);
  expect(detail.resourceData).toHaveLength(1);
  expect(detail.resourceData[0]).toMatchObject({ attempt: 2, data: { Reference: 'v2' } });

  const again = await stack.request('POST', `/api/v1/incoming-webhooks/${id}/retry`);
  expect(again.status).toBe(409);
  expect(again.body.error).toMatchObject({ code: 'not_retryable', details: { status: 'succeeded' } });
  const missing = await stack.request('POST', `/api/v1/incoming-webhooks/${randomUUID()}/retry`);
  expect(missing.status).toBe(404);
});

test('a bulk retry batches the selected webhooks of one tenant into one provider call', async () => {
  const integration = await createXeroIntegration(stack, xero, await xeroConsent(xero), {
    processingMethod: 'default',
  });
  const { ids } = await failedWebhooks(integration.id, 6);
  xero.resetStats();
  const unknown = randomUUID();
  const res = await stack.request('POST', '/api/v1/incoming-webhooks/retry', { ids: [...ids, unknown] });
  expect(res.status).toBe(202);
  expect(res.body.queued).toBe(6);
  expect(res.body.data.at(-1)).toEqual({ id: unknown, outcome: 'not_found' });
  expect(new Set(res.body.data.slice(0, 6).map((r: { workflowId: string }) => r.workflowId))).toEqual(
    new Set([`inbound-batch:${integration.id}:${TENANT}`]),
  );
  const rows = await allIn(stack, ids, ['succeeded', 'failed']);
  expect(rows.map((r) => [r.status, r.attempts_made])).toEqual(Array(6).fill(['succeeded', 2]));
  expect(xero.stats().callsByEndpoint['GET /Invoices']).toBe(1);
  expect(xero.stats().idsRequested).toBe(6);

  const invalid = await stack.request('POST', '/api/v1/incoming-webhooks/retry', { ids: [], extra: true });
  expect(invalid.status).toBe(400);
  expect(invalid.body.error.code).toBe('validation_failed');
});
