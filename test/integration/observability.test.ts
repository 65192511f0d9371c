import { signStandardWebhook } from '../emulators/webhook-sender';
import { freePort } from '../harness/free-port';
import { Receiver } from '../harness/receiver';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';
import { createWebhook, emit, ticketEvent } from './outgoing-helpers';

let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await Receiver.start();
  stack = await startStack({ WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}` });
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

test('/metrics exposes HTTP, ingress, delivery, batch, provider, mailbox and email series, plus the SDK worker metrics', async () => {
  const integration = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'metrics' });
  const body = JSON.stringify({ type: 'Ticket Changed', id: 'T-1' });
  await fetchJson(`${stack.apiUrl}/hooks/generic/${integration.body.id}`, {
    method: 'POST',
    headers: { ...signStandardWebhook(body, integration.body.signingSecret) },
    body,
  });
  await fetchJson(`${stack.apiUrl}/hooks/generic/${integration.body.id}`, { method: 'POST', body });
  const webhook = await createWebhook(stack, receiver, '/metrics-hook');
  await emit(stack, ticketEvent());
  await receiver.waitFor('/metrics-hook', 1);

  const text = await eventually(async () => {
    const res = await fetch(`${stack.apiUrl}/metrics`);
    const t = await res.text();
    return /switchyard_deliveries\{status="succeeded"\} 1/.test(t) && /temporal_/.test(t) ? t : undefined;
  }, 30_000);
  expect(text).toMatch(
    /switchyard_http_requests_total\{method="POST",route="\/api\/v1\/integrations",status="201"\} 1/,
  );
  expect(text).toMatch(/switchyard_http_request_duration_seconds_bucket/);
  expect(text).toMatch(/switchyard_webhooks_received_total\{provider="generic",outcome="accepted"\} 1/);
  expect(text).toMatch(/switchyard_webhooks_received_total\{provider="generic",outcome="rejected"\} 1/);
  expect(text).toMatch(/switchyard_incoming_webhooks\{provider="generic",status="(succeeded|processing|queued)"\} 1/);
  expect(text).toMatch(/switchyard_delivery_attempts\{status="succeeded"\} 1/);
  for (const family of [
    'switchyard_batch_size',
    'switchyard_provider_api_calls_last_minute',
    'switchyard_provider_rate_limited',
    'switchyard_mailbox_subscription_seconds_to_expiry',
    'switchyard_emails',
  ]) {
    expect(text).toContain(`# TYPE ${family} `);
  }
  // The Temporal SDK's own worker metrics (task slots, polls…), exported by the worker process.
  expect(text).toMatch(/^temporal_\w+/m);
  expect(webhook.id).toBeDefined();
});

test('the OpenAPI document is served', async () => {
  const res = await fetchJson(`${stack.apiUrl}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe('3.0.3');
  expect(Object.keys(res.body.paths)).toEqual(
    expect.arrayContaining(['/webhooks', '/incoming-webhooks', '/mailboxes']),
  );
});
