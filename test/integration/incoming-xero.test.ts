import { randomUUID } from 'node:crypto';
import type { XeroEmulator } from '../emulators/xero';
import { parseXeroBody, xeroEvents } from '../../src/incoming/xero/provider';
import { buildXeroPayload, checkXeroIntentToReceive, signXero } from '../emulators/webhook-sender';
import { Receiver } from '../harness/receiver';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';
import { countRows, createXeroIntegration, sendXero, startXero, WEBHOOK_KEY, webhookIn } from './incoming-helpers';

const TENANT = randomUUID();
let stack: Stack;
let xero: XeroEmulator;
let refreshToken: string;
let receiver: Receiver;

beforeAll(async () => {
  ({ xero, refreshToken } = await startXero(TENANT));
  receiver = await Receiver.start();
  stack = await startStack({ BODY_LIMIT_BYTES: '65536', RATE_LIMIT_REQUESTS: '0' });
});
afterAll(async () => {
  await stack?.stop();
  await xero?.stop();
  await receiver?.close();
});
beforeEach(() => {
  xero.clearFaults();
  xero.resetStats();
});

const hookUrl = (id: string) => `${stack.apiUrl}/hooks/xero/${id}`;
const invoiceEvent = (resourceId: string, over: Record<string, unknown> = {}) => ({
  resourceId,
  tenantId: TENANT,
  eventCategory: 'INVOICE' as const,
  eventType: 'UPDATE' as const,
  ...over,
});

describe('intent to receive', () => {
  test('200 with no body for a correctly signed body, 401 with no body otherwise, both logged', async () => {
    const integration = await createXeroIntegration(stack, xero, refreshToken);
    const check = await checkXeroIntentToReceive(hookUrl(integration.id), WEBHOOK_KEY);
    expect(check.problems).toEqual([]);
    expect(check.good.durationMs).toBeLessThan(5000);
    const logged = await stack.request('GET', `/api/v1/inbound-requests?integrationId=${integration.id}`);
    expect(
      logged.body.data.map((r: { responseStatus: number; outcome: string }) => [r.responseStatus, r.outcome]),
    ).toEqual([
      [401, 'rejected'],
      [200, 'accepted'],
    ]);
    expect(
      await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [integration.id]),
    ).toBe(0);
  });
});

test('default method: the invoice is downloaded, stored with its download date, and "Invoice updated" is emitted', async () => {
  const integration = await createXeroIntegration(stack, xero, refreshToken);
  const invoice = xero.upsertInvoice(TENANT, { Total: 250, Reference: 'first' });
  const res = await sendXero(stack, integration.id, buildXeroPayload([invoiceEvent(invoice.InvoiceID)]));
  expect(res.status).toBe(200);
  expect(res.durationMs).toBeLessThan(5000);
  const { ids } = res;
  expect(res.body).toBe('');
  const detail = await webhookIn(stack, ids[0]!, ['succeeded', 'failed']);
  expect(detail).toMatchObject({
    status: 'succeeded',
    provider: 'xero',
    entityType: 'INVOICE',
    entityId: invoice.InvoiceID,
    tenantId: TENANT,
  });
  expect(detail.attempts).toHaveLength(1);
  expect(detail.resourceData).toHaveLength(1);
  expect(detail.resourceData[0].data.InvoiceID).toBe(invoice.InvoiceID);
  expect(Date.parse(detail.resourceData[0].downloadedAt)).toBeGreaterThan(Date.now() - 60_000);
  expect(detail.result.event.type).toBe('invoice.updated');
  const event = await stack.db.query('SELECT type, object_id, source, data FROM events WHERE id = $1', [
    detail.result.event.id,
  ]);
  expect(event.rows[0]).toMatchObject({ type: 'invoice.updated', object_id: invoice.InvoiceID, source: 'xero' });
  expect(event.rows[0].data.fields.total).toBe(250);
  expect(xero.stats().callsByEndpoint['GET /Invoices']).toBe(1);
});

test('one POST with many events makes one webhook each; a redelivery is processed once', async () => {
  const integration = await createXeroIntegration(stack, xero, refreshToken, { processingMethod: 'service_immediate' });
  const invoices = [1, 2, 3].map((n) => xero.upsertInvoice(TENANT, { Total: n * 10 }));
  const contact = xero.upsertContact(TENANT, { Name: 'Acme Ltd' });
  const payload = buildXeroPayload([
    ...invoices.map((i) => invoiceEvent(i.InvoiceID)),
    { resourceId: contact.ContactID, tenantId: TENANT, eventCategory: 'CONTACT', eventType: 'CREATE' },
    // Subscription events are not data; the integration ignores them.
    { resourceId: randomUUID(), tenantId: TENANT, eventCategory: 'SUBSCRIPTION', eventType: 'UPDATE' },
  ]);
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await sendXero(stack, integration.id, payload));
  // Xero's contract: 200 with an empty body, whatever we made of it; our account is in the log.
  expect(answers.map((a) => [a.status, a.body])).toEqual([
    [200, ''],
    [200, ''],
    [200, ''],
  ]);
  expect(answers[0]!.ids).toHaveLength(4);
  expect(answers[2]!.ids).toEqual(answers[0]!.ids);

  const details = await Promise.all(answers[0]!.ids.map((id) => webhookIn(stack, id, ['succeeded'])));
  expect(details.map((d) => d.attempts.length)).toEqual([1, 1, 1, 1]);
  const contactDetail = details.find((d) => d.entityType === 'CONTACT');
  expect(contactDetail.result.event.type).toBe('client.created');
  expect(
    await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [integration.id]),
  ).toBe(4);
  expect(
    await countRows(
      stack,
      "SELECT count(*) AS n FROM events WHERE idempotency_key LIKE 'incoming:%' AND object_id = ANY($1)",
      [[...invoices.map((i) => i.InvoiceID), contact.ContactID]],
    ),
  ).toBe(4);
  const logged = await stack.request('GET', `/api/v1/inbound-requests?integrationId=${integration.id}`);
  expect(logged.body.data.map((r: { outcome: string }) => r.outcome)).toEqual(['duplicate', 'duplicate', 'accepted']);
  const first = logged.body.data[2];
  expect([first.responseStatus, first.responseBody]).toEqual([200, null]);
  expect(first.note).toMatch(/deferred to the incoming webhook service \(5 received, 4 new, 0 duplicates, 1 ignored\)/);
  expect(logged.body.data[0].note).toMatch(/0 new, 4 duplicates/);
});

test('a copy of one event committed while the request is stored: the other event is stored and processed once, nothing half-written', async () => {
  const integration = await createXeroIntegration(stack, xero, refreshToken, { processingMethod: 'service_immediate' });
  const [first, second] = [1, 2].map((n) => xero.upsertInvoice(TENANT, { Total: n * 10 }));
  const payload = buildXeroPayload([invoiceEvent(first!.InvoiceID), invoiceEvent(second!.InvoiceID)]);
  const secondKey = xeroEvents(parseXeroBody(payload))[1]!.deliveryKey;
  // Another request's copy of the second event, not yet committed when this request arrives.
  const other = await stack.db.connect();
  try {
    await other.query('BEGIN');
    await other.query(
      `INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, processing_method, status,
         attempts_allowed, workflow_id, payload)
       VALUES ($1, $2, 'xero', $3, 'service_immediate', 'succeeded', 3, $4, '{}')`,
      [randomUUID(), integration.id, secondKey, `race-${randomUUID()}`],
    );
    const answer = sendXero(stack, integration.id, payload);
    // The request's write waits on the uncommitted copy's key; then the copy commits.
    await new Promise((r) => setTimeout(r, 500));
    await other.query('COMMIT');
    expect((await answer).status).toBe(200);
  } finally {
    other.release();
  }
  const stored = await stack.db.query<{ delivery_key: string; n: string }>(
    'SELECT delivery_key, count(*) AS n FROM incoming_webhooks WHERE integration_id = $1 GROUP BY delivery_key',
    [integration.id],
  );
  expect(stored.rows.map((r) => Number(r.n))).toEqual([1, 1]);
  const logged = await stack.request('GET', `/api/v1/inbound-requests?integrationId=${integration.id}`);
  expect(logged.body.data).toHaveLength(1);
  expect(logged.body.data[0].outcome).toBe('accepted');
  expect(logged.body.data[0].note).toMatch(/2 received, 1 new, 1 duplicates/);
  const firstRow = await stack.db.query<{ id: string }>(
    'SELECT id FROM incoming_webhooks WHERE integration_id = $1 AND delivery_key <> $2',
    [integration.id, secondKey],
  );
  const detail = await webhookIn(stack, firstRow.rows[0]!.id, ['succeeded']);
  expect(detail.attempts).toHaveLength(1);
});

test('concurrent deliveries, copies and overlapping requests among them, are stored once per event and logged as answered', async () => {
  const integration = await createXeroIntegration(stack, xero, refreshToken, { processingMethod: 'service_immediate' });
  const invoice = () => xero.upsertInvoice(TENANT, {}).InvoiceID;
  // Ten two-event deliveries, each sent twice at once, and two requests sharing one event.
  const pairs = Array.from({ length: 10 }, () => buildXeroPayload([invoiceEvent(invoice()), invoiceEvent(invoice())]));
  const [x, y, z] = [invoice(), invoice(), invoice()];
  // And one whose only event is of a kind the integration ignores: logged, nothing stored.
  const onlyIgnored = buildXeroPayload([
    { resourceId: randomUUID(), tenantId: TENANT, eventCategory: 'SUBSCRIPTION', eventType: 'UPDATE' },
  ]);
  // The shared event is the same event in both, as Xero sends it: one eventDateUtc (left to
  // the payload builder, each copy could be stamped a millisecond apart and be two events).
  const shared = invoiceEvent(y, { eventDateUtc: new Date() });
  const overlapping = [buildXeroPayload([invoiceEvent(x), shared]), buildXeroPayload([shared, invoiceEvent(z)])];
  const answers = await Promise.all(
    [...pairs, ...pairs, ...overlapping, onlyIgnored].map((p) => sendXero(stack, integration.id, p)),
  );
  expect(answers.map((a) => [a.status, a.body])).toEqual(answers.map(() => [200, '']));

  const stored = await stack.db.query<{ delivery_key: string; n: string }>(
    'SELECT delivery_key, count(*) AS n FROM incoming_webhooks WHERE integration_id = $1 GROUP BY delivery_key',
    [integration.id],
  );
  expect(stored.rows).toHaveLength(23);
  expect(stored.rows.every((r) => Number(r.n) === 1)).toBe(true);
  // Each request all or nothing: its log entry counts exactly the rows it stored.
  const logged = await stack.db.query<{ outcome: string; note: string }>(
    'SELECT outcome, note FROM inbound_requests WHERE integration_id = $1',
    [integration.id],
  );
  expect(logged.rows).toHaveLength(23);
  const newIn = (note: string) => Number(/(\d+) new/.exec(note)![1]);
  expect(logged.rows.reduce((sum, r) => sum + newIn(r.note), 0)).toBe(23);
  expect(logged.rows.filter((r) => r.outcome === 'duplicate')).toHaveLength(10);
  expect(logged.rows.filter((r) => r.outcome === 'ignored')).toHaveLength(1);
  expect(
    logged.rows
      .filter((r) => r.outcome === 'accepted')
      .map((r) => newIn(r.note))
      .sort(),
  ).toEqual([...Array.from({ length: 11 }, () => 2), 1].sort());

  const summary = await eventually(async () => {
    const res = await stack.request('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integration.id}`);
    return res.body.byStatus['succeeded'] === 23 ? res.body : undefined;
  }, 120_000);
  expect(summary.total).toBe(23);
  expect(
    await countRows(
      stack,
      'SELECT count(*) AS n FROM incoming_webhook_attempts a JOIN incoming_webhooks w ON w.id = a.webhook_id WHERE w.integration_id = $1',
      [integration.id],
    ),
  ).toBe(23);
});

test('a webhook whose entity was already processed from newer data is marked stale and skipped', async () => {
  const integration = await createXeroIntegration(stack, xero, refreshToken);
  const invoice = xero.upsertInvoice(TENANT, { Total: 99 });
  const now = new Date();
  const newer = await sendXero(
    stack,
    integration.id,
    buildXeroPayload([invoiceEvent(invoice.InvoiceID, { eventDateUtc: now })]),
  );
  const newerId = newer.ids[0]!;
  await webhookIn(stack, newerId, ['succeeded']);
  const callsBefore = xero.stats().apiCalls;

  // Delivered late: an event from ten minutes ago, before the data we already hold.
  const older = await sendXero(
    stack,
    integration.id,
    buildXeroPayload([invoiceEvent(invoice.InvoiceID, { eventDateUtc: new Date(now.getTime() - 600_000) })]),
  );
  const detail = await webhookIn(stack, older.ids[0]!, ['stale', 'succeeded', 'failed']);
  expect(detail.status).toBe('stale');
  expect(detail.automaticAttemptsRemaining).toBe(0);
  expect(detail.result).toMatchObject({ stale: true, coveredBy: newerId });
  expect(detail.attempts[0].log.map((l: { message: string }) => l.message).join('\n')).toMatch(/already processed/);
  expect(detail.resourceData).toEqual([]);
  expect(xero.stats().apiCalls).toBe(callsBefore);
  expect(await countRows(stack, 'SELECT count(*) AS n FROM events WHERE object_id = $1', [invoice.InvoiceID])).toBe(1);
});

describe('retry behaviour of the immediate methods', () => {
  test('default: a failure is not retried', async () => {
    const integration = await createXeroIntegration(stack, xero, refreshToken);
    const invoice = xero.upsertInvoice(TENANT, {});
    xero.failNext(1, 500);
    const res = await sendXero(stack, integration.id, buildXeroPayload([invoiceEvent(invoice.InvoiceID)]));
    const detail = await webhookIn(stack, res.ids[0]!, ['failed', 'succeeded']);
    expect(detail.status).toBe('failed');
    expect(detail.attempts.map((a: { status: string }) => a.status)).toEqual(['failed']);
    expect(detail.attempts[0].error).toMatch(/Xero answered 500/);
    expect(detail.automaticAttemptsRemaining).toBe(0);
  });

  test('service, immediate: a failure is retried exactly two more times', async () => {
    const integration = await createXeroIntegration(stack, xero, refreshToken, {
      processingMethod: 'service_immediate',
    });
    const ok = xero.upsertInvoice(TENANT, {});
    xero.failNext(2, 503);
    const recovered = await sendXero(stack, integration.id, buildXeroPayload([invoiceEvent(ok.InvoiceID)]));
    const first = await webhookIn(stack, recovered.ids[0]!, ['failed', 'succeeded']);
    expect(first.attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'failed', 'succeeded']);

    const bad = xero.upsertInvoice(TENANT, {});
    xero.failNext(10, 500);
    const failing = await sendXero(stack, integration.id, buildXeroPayload([invoiceEvent(bad.InvoiceID)]));
    const second = await webhookIn(stack, failing.ids[0]!, ['failed', 'succeeded']);
    expect(second.attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'failed', 'failed']);
    expect(second.automaticAttemptsRemaining).toBe(0);
  });

  test('a provider 429 waits for Retry-After and spends no attempt', async () => {
    const integration = await createXeroIntegration(stack, xero, refreshToken);
    const invoice = xero.upsertInvoice(TENANT, {});
    xero.failNext(1, 429, { retryAfter: 2, problem: 'minute' });
    const res = await sendXero(stack, integration.id, buildXeroPayload([invoiceEvent(invoice.InvoiceID)]));
    const detail = await webhookIn(stack, res.ids[0]!, ['failed', 'succeeded']);
    expect(detail.status).toBe('succeeded');
    // No attempt spent: every execution (the throttled one and its re-run) belongs to attempt 1.
    expect(detail.attempts.every((a: { attempt: number }) => a.attempt === 1)).toBe(true);
    expect(detail.attempts.filter((a: { status: string }) => a.status === 'succeeded')).toHaveLength(1);
    expect(xero.stats().faultsInjected).toBe(1);
  });

  test('an expired access token is refreshed and the rotated refresh token kept', async () => {
    const integration = await createXeroIntegration(stack, xero, refreshToken);
    const invoice = xero.upsertInvoice(TENANT, {});
    const first = await sendXero(stack, integration.id, buildXeroPayload([invoiceEvent(invoice.InvoiceID)]));
    await webhookIn(stack, first.ids[0]!, ['succeeded']);
    xero.expireAllTokens();
    const second = await sendXero(
      stack,
      integration.id,
      buildXeroPayload([invoiceEvent(invoice.InvoiceID, { eventDateUtc: new Date(Date.now() + 1000) })]),
    );
    const detail = await webhookIn(stack, second.ids[0]!, ['succeeded', 'failed', 'stale']);
    expect(detail.status).not.toBe('failed');
    expect(xero.stats().unauthorized).toBe(1);
    const tokens = await stack.db.query(
      'SELECT refresh_count, tokens_enc FROM provider_tokens WHERE integration_id = $1',
      [integration.id],
    );
    expect(tokens.rows[0].refresh_count).toBe(2);
    expect(tokens.rows[0].tokens_enc).not.toContain(refreshToken);
  });
});

test('an emitted "Invoice updated" reaches a subscribed outgoing webhook', async () => {
  const hook = await stack.request('POST', '/api/v1/webhooks', {
    name: 'invoice subscriber',
    url: receiver.url('/invoices'),
    events: [{ type: 'Invoice updated' }],
  });
  expect(hook.status).toBe(201);
  receiver.setSecrets('/invoices', [hook.body.signingSecret]);
  const integration = await createXeroIntegration(stack, xero, refreshToken);
  const invoice = xero.upsertInvoice(TENANT, { Total: 1234, InvoiceNumber: 'INV-SUB-1' });
  await sendXero(stack, integration.id, buildXeroPayload([invoiceEvent(invoice.InvoiceID)]));
  const delivered = await eventually(
    async () => receiver.requests('/invoices').find((r) => JSON.stringify(r.json).includes(invoice.InvoiceID)),
    30_000,
  );
  expect(delivered.verified).toContain(true);
  expect(JSON.stringify(delivered.json)).toContain('INV-SUB-1');
});

describe('refused requests are logged and process nothing', () => {
  let integration: { id: string };
  beforeAll(async () => {
    integration = await createXeroIntegration(stack, xero, refreshToken);
  });

  const post = (id: string, body: string, signature: string) =>
    fetchJson(hookUrl(id), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-xero-signature': signature },
      body,
    });

  test.each([
    [
      'a bad signature',
      () =>
        post(
          integration.id,
          JSON.stringify(buildXeroPayload([invoiceEvent(randomUUID())])),
          signXero('{}', WEBHOOK_KEY),
        ),
      401,
      undefined,
    ],
    [
      'no signature',
      () => fetchJson(hookUrl(integration.id), { method: 'POST', body: '{"events":[]}' }),
      401,
      undefined,
    ],
    [
      'malformed JSON',
      () => post(integration.id, '{"events":[', signXero('{"events":[', WEBHOOK_KEY)),
      400,
      'malformed_json',
    ],
    [
      'a body that is not a Xero webhook',
      () => {
        const body = JSON.stringify({ events: [{ resourceId: 'not-a-guid', tenantId: TENANT }] });
        return post(integration.id, body, signXero(body, WEBHOOK_KEY));
      },
      400,
      'invalid_payload',
    ],
    [
      'an unknown integration',
      () => post(randomUUID(), '{"events":[]}', signXero('{"events":[]}', WEBHOOK_KEY)),
      404,
      'unknown_integration',
    ],
  ])('%s', async (_name, send, status, code) => {
    const before = await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks', []);
    const res = await send();
    expect(res.status).toBe(status);
    if (code) expect(res.body.error.code).toBe(code);
    else expect(res.text).toBe('');
    const logged = await stack.db.query(
      'SELECT outcome, response_status FROM inbound_requests ORDER BY id DESC LIMIT 1',
    );
    expect(logged.rows[0]).toEqual({ outcome: 'rejected', response_status: status });
    expect(await countRows(stack, 'SELECT count(*) AS n FROM incoming_webhooks', [])).toBe(before);
  });

  test('a QuickBooks integration is not reachable through the Xero hook', async () => {
    const qb = await stack.request('POST', '/api/v1/integrations', {
      provider: 'quickbooks',
      name: 'wrong door',
      verifierToken: 'v-token',
      clientSecret: 's',
      refreshToken: 'r',
      settings: { clientId: 'c', tokenUrl: 'http://127.0.0.1:9/token', apiBaseUrl: 'http://127.0.0.1:9' },
    });
    expect(qb.status).toBe(201);
    const res = await post(qb.body.id, '{"events":[]}', signXero('{"events":[]}', 'v-token'));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('wrong_provider');
  });

  test('secrets are never returned and settings are validated', async () => {
    const got = await stack.request('GET', `/api/v1/integrations/${integration.id}`);
    expect(JSON.stringify(got.body)).not.toMatch(new RegExp(`${WEBHOOK_KEY}|${refreshToken}|client-secret`));
    expect(got.body.settings).toMatchObject({
      entityTypes: ['INVOICE', 'CONTACT', 'CREDITNOTE'],
      rateLimits: { perMinute: 60, concurrent: 5 },
    });
    // Without a refresh token the integration is created unconnected (the Connect flow signs it in).
    const unconnected = await stack.request('POST', '/api/v1/integrations', {
      provider: 'xero',
      name: 'x',
      webhookKey: 'k',
      clientSecret: 's',
      settings: { clientId: 'c' },
    });
    expect(unconnected.status).toBe(201);
    expect((await stack.request('GET', `/api/v1/integrations/${unconnected.body.id}/connection`)).body).toMatchObject({
      connected: false,
    });
    const bad = await stack.request('POST', '/api/v1/integrations', {
      provider: 'xero',
      name: 'x',
      webhookKey: 'k',
      clientSecret: 's',
      settings: { clientId: 'c', authorizeUrl: 'javascript:alert(1)' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/authorizeUrl/);
  });
});
