import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signGeneric } from '../../src/incoming/generic/webhook';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ BODY_LIMIT_BYTES: '4096' });
});
afterAll(async () => {
  await stack?.stop();
});

async function createIntegration(body: Record<string, unknown> = {}) {
  const res = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'Test source',
    ...body,
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; signingSecret: string };
}

function post(integrationId: string, body: string, headers: Record<string, string>) {
  return fetchJson(`${stack.apiUrl}/hooks/generic/${integrationId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

const countRows = async (sql: string, args: unknown[]) => Number((await stack.db.query(sql, args)).rows[0].n);

async function workflowsFor(integrationId: string) {
  const ids: string[] = [];
  for await (const wf of stack.temporal.workflow.list({ query: `SwitchyardIntegrationId = '${integrationId}'` })) {
    ids.push(wf.workflowId);
  }
  return ids;
}

test('a signed webhook sent three times is processed exactly once', async () => {
  const integration = await createIntegration();
  expect(integration.signingSecret).toMatch(/^whsec_/);
  const body = JSON.stringify({ type: 'Invoice updated', objectId: 'INV-42', data: { total: 10 } });
  const signed = signStandardWebhook(body, integration.signingSecret);

  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await post(integration.id, body, signed));
  expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
  expect(answers.map((a) => a.body.duplicate)).toEqual([false, true, true]);
  const webhookId = answers[0]!.body.id as string;
  expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([webhookId]));

  const detail = await eventually(async () => {
    const res = await stack.request('GET', `/api/v1/incoming-webhooks/${webhookId}`);
    return res.body.status === 'succeeded' ? res.body : undefined;
  });
  expect(detail.attempts).toHaveLength(1);
  expect(detail.attempts[0].status).toBe('succeeded');
  expect(detail.result).toMatchObject({ eventType: 'Invoice updated', entityId: 'INV-42' });
  expect(detail.eventType).toBe('Invoice updated');

  expect(
    await countRows('SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [integration.id]),
  ).toBe(1);
  const outcomes = await stack.db.query(
    'SELECT outcome, response_status FROM inbound_requests WHERE integration_id = $1 ORDER BY id',
    [integration.id],
  );
  expect(outcomes.rows).toEqual([
    { outcome: 'accepted', response_status: 202 },
    { outcome: 'duplicate', response_status: 202 },
    { outcome: 'duplicate', response_status: 202 },
  ]);

  // One run, visible in Temporal and found by its search attributes.
  const runs = await eventually(async () => {
    const ids = await workflowsFor(integration.id);
    return ids.length > 0 ? ids : undefined;
  });
  expect(runs).toEqual([detail.workflowId]);
  const described = await stack.temporal.workflow.getHandle(detail.workflowId).describe();
  expect(described.typedSearchAttributes.get({ name: 'SwitchyardEventType', type: 'KEYWORD' } as never)).toBe(
    'Invoice updated',
  );
});

test('a burst of deliveries, each sent three times at once, is stored once per delivery and every answer says which copy was first', async () => {
  const integration = await createIntegration();
  const deliveries = Array.from({ length: 20 }, (_, i) => {
    const body = JSON.stringify({ type: 'Ticket updated', objectId: `T-${i}` });
    return { body, signed: signStandardWebhook(body, integration.signingSecret) };
  });
  // All 60 in flight together: copies of one delivery meet inside one commit as well as across them.
  const answers = await Promise.all(
    deliveries.flatMap((d, i) =>
      [0, 1, 2].map(async () => ({
        i,
        res: await post(integration.id, d.body, d.signed),
      })),
    ),
  );
  expect(answers.every((a) => a.res.status === 202)).toBe(true);
  for (let i = 0; i < deliveries.length; i++) {
    const copies = answers.filter((a) => a.i === i).map((a) => a.res.body);
    expect(new Set(copies.map((c) => c.id)).size).toBe(1);
    expect(copies.filter((c) => c.duplicate === false)).toHaveLength(1);
  }
  expect(
    await countRows('SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [integration.id]),
  ).toBe(20);
  // The log keeps the answer each copy was actually given.
  const logged = await stack.db.query(
    'SELECT outcome, response_body, incoming_webhook_id FROM inbound_requests WHERE integration_id = $1',
    [integration.id],
  );
  expect(logged.rows).toHaveLength(60);
  for (const row of logged.rows) {
    const answer = JSON.parse(row.response_body);
    expect(answer.id).toBe(row.incoming_webhook_id);
    expect(answer.duplicate).toBe(row.outcome === 'duplicate');
  }
  expect(logged.rows.filter((r) => r.outcome === 'accepted')).toHaveLength(20);

  const settled = await eventually(async () => {
    const res = await stack.request('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integration.id}`);
    return res.body.byStatus['succeeded'] === 20 ? res.body : undefined;
  });
  expect(settled.total).toBe(20);
  expect(
    await countRows(
      'SELECT count(*) AS n FROM incoming_webhook_attempts a JOIN incoming_webhooks w ON w.id = a.webhook_id WHERE w.integration_id = $1',
      [integration.id],
    ),
  ).toBe(20);
});

test('the same webhook-id with a changed body is still one delivery (a sender retry)', async () => {
  const integration = await createIntegration();
  const first = JSON.stringify({ type: 'Ticket Changed', id: 'T-1', seq: 1 });
  const second = JSON.stringify({ type: 'Ticket Changed', id: 'T-1', seq: 2 });
  const a = await post(integration.id, first, signStandardWebhook(first, integration.signingSecret, { id: 'evt_123' }));
  const b = await post(
    integration.id,
    second,
    signStandardWebhook(second, integration.signingSecret, { id: 'evt_123' }),
  );
  expect([a.status, b.status]).toEqual([202, 202]);
  expect(b.body).toMatchObject({ id: a.body.id, duplicate: true });
});

describe('the body-hmac opt-in, for senders that sign the body alone', () => {
  let integration: { id: string; signingSecret: string; signatureScheme: string };
  beforeAll(async () => {
    integration = (await createIntegration({ signatureScheme: 'body-hmac' })) as typeof integration;
  });

  test('x-switchyard-signature is accepted and x-switchyard-delivery names the delivery', async () => {
    expect(integration.signatureScheme).toBe('body-hmac');
    const first = JSON.stringify({ type: 'Ticket Changed', id: 'T-1', seq: 1 });
    const second = JSON.stringify({ type: 'Ticket Changed', id: 'T-1', seq: 2 });
    const a = await post(integration.id, first, {
      'x-switchyard-signature': signGeneric(first, integration.signingSecret),
      'x-switchyard-delivery': 'evt_123',
    });
    const b = await post(integration.id, second, {
      'x-switchyard-signature': signGeneric(second, integration.signingSecret),
      'x-switchyard-delivery': 'evt_123',
    });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body).toMatchObject({ id: a.body.id, duplicate: true });
  });

  test('Standard Webhooks headers do not stand in for the body HMAC', async () => {
    const body = JSON.stringify({ type: 'x' });
    const res = await post(integration.id, body, signStandardWebhook(body, `whsec_${'A'.repeat(43)}=`));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('missing_signature');
  });

  test('switching to Standard Webhooks hands out a whsec_ secret once, and the old scheme stops working', async () => {
    const switched = await stack.request('PATCH', `/api/v1/integrations/${integration.id}`, {
      signatureScheme: 'standard-webhooks',
    });
    expect(switched.status).toBe(200);
    expect(switched.body.signatureScheme).toBe('standard-webhooks');
    expect(switched.body.signingSecret).toMatch(/^whsec_/);
    const body = JSON.stringify({ type: 'after switch' });
    const old = await post(integration.id, body, {
      'x-switchyard-signature': signGeneric(body, integration.signingSecret),
    });
    expect(old.status).toBe(401);
    const now = await post(integration.id, body, signStandardWebhook(body, switched.body.signingSecret));
    expect(now.status).toBe(202);
    expect((await stack.request('GET', `/api/v1/integrations/${integration.id}`)).body.signingSecret).toBeUndefined();
  });
});

describe('refused requests start nothing and are logged with their answer', () => {
  let integration: { id: string; signingSecret: string };
  beforeAll(async () => {
    integration = await createIntegration();
  });

  const cases: Array<[string, () => Promise<Awaited<ReturnType<typeof post>>>, number, string]> = [
    [
      'wrong signature',
      () => post(integration.id, '{"type":"x"}', signStandardWebhook('{"type":"y"}', integration.signingSecret)),
      401,
      'invalid_signature',
    ],
    ['missing signature', () => post(integration.id, '{"type":"x"}', {}), 401, 'missing_signature'],
    [
      'malformed JSON',
      () =>
        post(integration.id, '{"type":', {
          ...signStandardWebhook('{"type":', integration.signingSecret),
        }),
      400,
      'malformed_json',
    ],
    [
      'a JSON array instead of an object',
      () => post(integration.id, '[1]', { ...signStandardWebhook('[1]', integration.signingSecret) }),
      400,
      'invalid_payload',
    ],
    [
      'an oversized body',
      () => {
        const big = JSON.stringify({ pad: 'x'.repeat(5000) });
        return post(integration.id, big, { ...signStandardWebhook(big, integration.signingSecret) });
      },
      413,
      'payload_too_large',
    ],
  ];

  test.each(cases)('%s', async (_name, send, status, code) => {
    const before = await countRows('SELECT count(*) AS n FROM inbound_requests', []);
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toEqual(expect.any(String));
    expect(
      await countRows('SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [integration.id]),
    ).toBe(0);
    const logged = await stack.db.query('SELECT * FROM inbound_requests ORDER BY id DESC LIMIT 1');
    expect(await countRows('SELECT count(*) AS n FROM inbound_requests', [])).toBe(before + 1);
    expect(logged.rows[0]).toMatchObject({ outcome: 'rejected', response_status: status });
    expect(JSON.parse(logged.rows[0].response_body).error.code).toBe(code);
  });

  test('unknown integration', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await post(id, '{}', { 'x-switchyard-signature': 'sha256=00' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('unknown_integration');
    }
    const logged = await stack.request('GET', '/api/v1/inbound-requests?outcome=rejected&limit=2');
    expect(logged.body.data.map((r: { responseStatus: number }) => r.responseStatus)).toEqual([404, 404]);
  });

  test('nothing ran in Temporal for the refused requests', async () => {
    expect(await workflowsFor(integration.id)).toEqual([]);
  });
});

describe('processing methods', () => {
  let receiver: Server;
  let receiverUrl: string;
  let hits = 0;
  beforeAll(async () => {
    receiver = createServer((_req, res) => {
      hits++;
      res.writeHead(503).end('down for maintenance');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/relay`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  test.each([
    ['default', 1],
    ['service_immediate', 3],
  ])('%s: a failing webhook is attempted %i time(s) in all', async (method, attempts) => {
    hits = 0;
    const integration = await createIntegration({ processingMethod: method, settings: { forwardUrl: receiverUrl } });
    const body = JSON.stringify({ type: 'Site created', id: `S-${method}` });
    const res = await post(integration.id, body, {
      ...signStandardWebhook(body, integration.signingSecret),
    });
    expect(res.status).toBe(202);
    expect(res.body.message).toMatch(
      method === 'default' ? /being processed/ : /deferred to the incoming webhook service/,
    );
    const detail = await eventually(async () => {
      const r = await stack.request('GET', `/api/v1/incoming-webhooks/${res.body.id}`);
      return r.body.status === 'failed' ? r.body : undefined;
    }, 30_000);
    expect(detail.attempts.map((a: { status: string }) => a.status)).toEqual(Array(attempts).fill('failed'));
    expect(detail.attempts[0].error).toBe('forward URL answered 503');
    expect(detail.automaticAttemptsRemaining).toBe(0);
    expect(hits).toBe(attempts);
  });

  test('a forward URL pointing at a private address is refused when not allow-listed', async () => {
    const res = await stack.request('POST', '/api/v1/integrations', {
      provider: 'generic',
      name: 'metadata',
      settings: { forwardUrl: 'http://169.254.169.254/latest/meta-data' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('blocked_destination');
  });
});

test('the incoming webhook log filters and paginates', async () => {
  const integration = await createIntegration();
  for (let i = 0; i < 5; i++) {
    const body = JSON.stringify({ type: 'User created', id: `U-${i}` });
    await post(integration.id, body, { ...signStandardWebhook(body, integration.signingSecret) });
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/api/v1/incoming-webhooks?integrationId=${integration.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await stack.request('GET', q);
    expect(page.status).toBe(200);
    seen.push(...page.body.data.map((w: { entityId: string }) => w.entityId));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen.sort()).toEqual(['U-0', 'U-1', 'U-2', 'U-3', 'U-4']);
  const filtered = await stack.request('GET', `/api/v1/incoming-webhooks?integrationId=${integration.id}&entityId=U-3`);
  expect(filtered.body.data).toHaveLength(1);
  const bad = await stack.request('GET', '/api/v1/incoming-webhooks?status=weird');
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe('validation_failed');
});
