import { startStack, type Stack } from '../harness/stack';
import { seedOverview, type Seed } from './stats-seed';

/** The overview's aggregates, computed in SQL by the real API over seeded rows with known times. */
let stack: Stack;
let seed: Seed;

beforeAll(async () => {
  stack = await startStack();
  seed = await seedOverview(stack);
});

afterAll(async () => {
  await stack?.stop();
});

const get = async (path: string) => {
  const res = await stack.request('GET', `/api/v1/stats${path}`);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
  return res.body;
};
const hourAt = (hours: Array<{ start: string }>, hoursBack: number) =>
  hours.find((h) => Date.parse(h.start) === seed.hourStart.getTime() - hoursBack * 3600_000);

test('deliveries per hour by outcome, with latency percentiles in total and per webhook', async () => {
  const stats = await get('/deliveries?hours=24');
  expect(stats.hours).toHaveLength(24);
  expect(stats.total).toEqual({
    succeeded: 7,
    failed: 2,
    held: 1,
    inProgress: 1,
    p50Ms: 400,
    p95Ms: 3800,
    p99Ms: 4760,
  });
  expect(hourAt(stats.hours, 0)).toMatchObject({ succeeded: 5, failed: 1, held: 1, inProgress: 1 });
  expect(hourAt(stats.hours, 1)).toMatchObject({ succeeded: 2, failed: 1, held: 0, inProgress: 0, p50Ms: 1000 });
  expect(hourAt(stats.hours, 5)).toEqual(
    expect.objectContaining({ succeeded: 0, failed: 0, held: 0, inProgress: 0, p50Ms: null }),
  );

  // Busiest webhook first; its own percentiles.
  expect(stats.webhooks.map((w: { name: string }) => w.name)).toEqual([seed.webhookA.name, seed.webhookB.name]);
  expect(stats.webhooks[0]).toMatchObject({
    webhookId: seed.webhookA.id,
    succeeded: 6,
    failed: 2,
    inProgress: 1,
    p50Ms: 350,
  });

  const onlyB = await get(`/deliveries?hours=24&webhookId=${seed.webhookB.id}`);
  expect(onlyB.total).toMatchObject({ succeeded: 1, held: 1, failed: 0, p50Ms: 5000 });
  expect(onlyB.webhooks).toHaveLength(1);

  // A wider window reaches the delivery from two days ago.
  const week = await get('/deliveries?hours=72');
  expect(week.hours).toHaveLength(72);
  expect(week.total.succeeded).toBe(8);
});

test('incoming webhooks per hour by status; unknown statuses count as other', async () => {
  const stats = await get('/incoming?hours=24');
  expect(stats.total).toEqual({ queued: 1, processing: 0, succeeded: 3, failed: 2, stale: 1, other: 1 });
  expect(hourAt(stats.hours, 0)).toMatchObject({ succeeded: 2, failed: 1, queued: 1, stale: 1, other: 1 });
  expect(hourAt(stats.hours, 2)).toMatchObject({ succeeded: 1, failed: 1, queued: 0 });
  const other = await get(`/incoming?hours=24&integrationId=00000000-0000-4000-8000-000000000000`);
  expect(other.total.succeeded).toBe(0);
});

test('intake backlog counts the outbox rows not yet started, and queued work', async () => {
  const before = await get('/intake');
  expect(before).toMatchObject({ pending: 0, oldestAgeSeconds: 0 });
  expect(before.queued.incomingWebhooks.pending).toBe(1);
  expect(before.queued.inboundMail).toEqual({ pending: 0, oldestAgeSeconds: 0 });

  // Rows due in an hour: the stack's starters leave them alone while we look.
  await stack.db.query(
    `INSERT INTO intake_jobs (kind, workflow_id, payload, created_at, run_after)
     SELECT 'test.noop', 'noop', '{}', c, now() + interval '1 hour'
     FROM unnest(ARRAY[now() - interval '90 seconds', now(), now()]) AS c`,
  );
  const after = await get('/intake');
  expect(after.pending).toBe(3);
  expect(after.oldestAgeSeconds).toBeGreaterThanOrEqual(90);
  await stack.db.query(`DELETE FROM intake_jobs WHERE kind = 'test.noop'`);
});

test('mailbox subscriptions with time to expiry, soonest first', async () => {
  const { data } = await get('/mailboxes');
  expect(data.map((m: { name: string }) => m.name)).toEqual(['Support inbox', 'Scanned inbox']);
  expect(data[0].secondsToExpiry).toBeGreaterThan(7000);
  expect(data[0].secondsToExpiry).toBeLessThanOrEqual(7200);
  expect(data[1]).toMatchObject({ method: 'scan', expiresAt: null, secondsToExpiry: null });
});

test('the newest errors across deliveries, incoming webhooks and emails, paged by keyset', async () => {
  const all = await get('/errors?limit=100');
  expect(all.data.map((e: { kind: string }) => e.kind)).toEqual([
    'inbound_mail',
    'incoming_webhook',
    'outbound_mail',
    'delivery',
    'delivery',
    'incoming_webhook',
  ]);
  expect(all.data[0]).toMatchObject({
    title: 'Cannot print · alice@customer.test',
    error: 'Graph answered 503',
    parentName: 'Support inbox',
  });
  expect(all.data[3]).toMatchObject({
    error: 'connect ECONNREFUSED 127.0.0.1:9',
    parentId: seed.webhookA.id,
    parentName: seed.webhookA.name,
  });
  expect(all.nextCursor).toBeNull();

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: Array<{ id: string }>; nextCursor: string | null } = await get(
      `/errors?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.data.length).toBeLessThanOrEqual(2);
    seen.push(...page.data.map((e) => e.id));
    cursor = page.nextCursor;
  } while (cursor);
  expect(seen).toEqual(all.data.map((e: { id: string }) => e.id));

  const deliveries = await get('/errors?kind=delivery');
  expect(deliveries.data).toHaveLength(2);
});

test('bad queries are clear 400s', async () => {
  for (const path of [
    '/deliveries?hours=0',
    '/deliveries?hours=9999',
    '/deliveries?webhookId=nope',
    '/errors?kind=nope',
    '/errors?limit=1000',
    '/intake?x=1',
  ]) {
    const res = await stack.request('GET', `/api/v1/stats${path}`);
    expect([path, res.status, res.body.error.code]).toEqual([path, 400, 'validation_failed']);
  }
  const res = await stack.request('GET', '/api/v1/stats/errors?cursor=bm90LWEtY3Vyc29y');
  expect(res.body.error.code).toBe('invalid_cursor');
});
