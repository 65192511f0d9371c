import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from '../harness/stack';

// Every log pages on (full-precision timestamp, id). Rows here share milliseconds (different
// microseconds) and some share the exact microsecond, so only the id tells them apart.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const ROWS = 60;
/** Row i's timestamp: three milliseconds, 20 rows each; pairs share the very same microsecond. */
const stamp = (i: number) => {
  const ms = 100 + Math.floor(i / 20);
  const us = Math.floor((i % 20) / 2) * 7;
  return `2026-01-02T03:04:05.${String(ms).padStart(3, '0')}${String(us).padStart(3, '0')}Z`;
};

async function pageAll(path: string, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 1000; n++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await stack.request(
      'GET',
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    seen.push(...(res.body.data as { id: string | number }[]).map((r) => String(r.id)));
    cursor = res.body.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error('paging did not end');
}

async function expectGapFree(path: string, ids: string[]) {
  for (const limit of [1, 7, 50]) {
    const seen = await pageAll(path, limit);
    expect(seen.length).toBe(ids.length);
    expect(new Set(seen).size).toBe(ids.length);
    expect([...seen].sort()).toEqual([...ids].sort());
  }
}

test('incoming webhooks and inbound requests page without skipping or repeating rows', async () => {
  const integration = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'paging' });
  expect(integration.status).toBe(201);
  const integrationId = integration.body.id as string;
  const webhookIds: string[] = [];
  const requestIds: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const id = randomUUID();
    webhookIds.push(id);
    await stack.db.query(
      `INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, processing_method, status,
         attempts_allowed, workflow_id, payload, received_at)
       VALUES ($1, $2, 'generic', $3, 'service', 'succeeded', 1, $3, '{}', $4)`,
      [id, integrationId, `key-${i}`, stamp(i)],
    );
    const { rows } = await stack.db.query<{ id: string }>(
      `INSERT INTO inbound_requests (integration_id, provider, method, path, headers, body, body_bytes,
         received_at, response_status, outcome)
       VALUES ($1, 'generic', 'POST', '/hooks/generic', '{}', '', 0, $2, 202, 'accepted') RETURNING id`,
      [integrationId, stamp(i)],
    );
    requestIds.push(rows[0]!.id);
  }
  await expectGapFree(`/api/v1/incoming-webhooks?integrationId=${integrationId}`, webhookIds);
  await expectGapFree(`/api/v1/inbound-requests?integrationId=${integrationId}`, requestIds);
});

test('deliveries, tickets and the mail log page without skipping or repeating rows', async () => {
  const webhook = await stack.request('POST', '/api/v1/webhooks', {
    name: 'paging',
    url: 'http://127.0.0.1:9/paging',
    events: [{ type: 'Ticket Changed' }],
  });
  expect(webhook.status).toBe(201);
  const mailboxId = randomUUID();
  await stack.db.query(
    `INSERT INTO mailboxes (id, name, tenant_id, client_id, secrets_enc, authority, method)
     VALUES ($1, 'paging', 't', 'c', 'x', '{}', 'scan')`,
    [mailboxId],
  );
  const deliveryIds: string[] = [];
  const ticketIds: string[] = [];
  const mailIds: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const [d, t, m] = [randomUUID(), randomUUID(), randomUUID()];
    deliveryIds.push(d);
    ticketIds.push(t);
    mailIds.push(m);
    await stack.db.query(
      `INSERT INTO deliveries (id, webhook_id, group_key, workflow_id, status, lightweight, created_at)
       VALUES ($1, $2, $3, $3, 'succeeded', false, $4)`,
      [d, webhook.body.id, `g-${i}`, stamp(i)],
    );
    await stack.db.query(
      `INSERT INTO tickets (id, mailbox_id, summary, details, created_at) VALUES ($1, $2, 's', 'd', $3)`,
      [t, mailboxId, stamp(i)],
    );
    await stack.db.query(
      `INSERT INTO inbound_mail (id, mailbox_id, graph_message_id, source, status, workflow_id, first_seen_at)
       VALUES ($1, $2, $3, 'scan', 'processed', $3, $4)`,
      [m, mailboxId, `msg-${i}`, stamp(i)],
    );
  }
  await expectGapFree(`/api/v1/webhooks/${webhook.body.id}/deliveries`, deliveryIds);
  await expectGapFree(`/api/v1/tickets?mailboxId=${mailboxId}`, ticketIds);
  await expectGapFree(`/api/v1/inbound-mail?mailboxId=${mailboxId}`, mailIds);
});

test('a cursor this API did not issue is a 400 invalid_cursor, never a 500', async () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const bad = [
    'garbage!',
    'x'.repeat(2000),
    b64({ t: '2026-01-02T03:04:05.123456Z', i: '99999999999999999999999' }),
    b64({ t: '2026-01-02T03:04:05.123456Z', i: '-1' }),
    b64({ t: '-200000-01-02T03:04:05.123456Z', i: '1' }),
    b64({ t: '2026-02-31T03:04:05.123456Z', i: randomUUID() }),
    b64({ t: '2026-01-02T03:04:05.123Z', i: randomUUID() }),
    b64([1, 2]),
    b64('\u0000'),
  ];
  for (const path of [
    '/api/v1/inbound-requests',
    '/api/v1/incoming-webhooks',
    '/api/v1/tickets',
    '/api/v1/inbound-mail',
  ]) {
    for (const cursor of bad) {
      const res = await stack.request('GET', `${path}?cursor=${encodeURIComponent(cursor)}`);
      expect([path, cursor, res.status]).toEqual([path, cursor, 400]);
      expect(res.body.error.code).toMatch(/invalid_cursor|validation_failed/);
    }
  }
});
