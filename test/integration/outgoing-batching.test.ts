import type { RecordedRequest } from '../harness/receiver';
import { replayFailures } from '../harness/replay';
import { eventually } from '../harness/stack';
import { createWebhook, deliveries, emit, sleep, startOutgoingStack, ticketEvent } from './outgoing-helpers';
import type { OutgoingStack } from './outgoing-helpers';

let o: OutgoingStack;

// Two rounds per run make continue-as-new happen within a test; idle lanes end after 5 s.
beforeAll(async () => {
  o = await startOutgoingStack({
    DELIVERY_RETRY_SCHEDULE: '1s',
    LANE_MAX_ROUNDS_PER_RUN: '2',
    LANE_IDLE_SECONDS: '5',
  });
});
afterAll(() => o?.stop());

const EVENTS = [
  { type: 'Ticket Changed', objectId: 'a' },
  { type: 'Ticket Changed', objectId: 'b' },
  { type: 'New Ticket Logged', objectId: 'c' },
  { type: 'Site created', objectId: 'd' },
];
const subscribed = [{ type: 'Ticket Changed' }, { type: 'New Ticket Logged' }, { type: 'Site created' }];

/** Object ids per request, each batch sorted, batches sorted — the grouping, independent of arrival order. */
const grouping = (reqs: RecordedRequest[]) =>
  reqs
    .map((r) =>
      (r.json as Array<{ objectId: string }>)
        .map((i) => i.objectId)
        .sort()
        .join(''),
    )
    .sort();

/** Checks that a batch request is a signed JSON array of full envelopes sharing the delivery's id. */
function expectWellFormedBatch(r: RecordedRequest, webhookId: string) {
  expect(r.verified).toEqual([true]);
  expect(Array.isArray(r.json)).toBe(true);
  for (const item of r.json) {
    expect(item).toMatchObject({ messageId: r.headers['webhook-id'], webhookId, notificationId: expect.any(String) });
    expect(Object.keys(item).slice(0, 8)).toEqual([
      'id',
      'notificationId',
      'messageId',
      'event',
      'eventType',
      'webhookId',
      'objectId',
      'timestamp',
    ]);
  }
  expect(new Set(r.json.map((i: { id: string }) => i.id)).size).toBe(r.json.length);
}

async function emitAll() {
  const started = Date.now();
  for (const e of EVENTS) await emit(o.stack, ticketEvent(e));
  return started;
}

describe.each([
  // mode, groups the timer flush makes, events the max-items flush sends (in batches of 2)
  ['same_event', ['ab', 'c', 'd'], 2],
  ['same_event_type', ['abc', 'd'], 2],
  ['any_event', ['abcd'], 4],
])('batching %s', (mode, byTimer, sentByMaxItems) => {
  test('flushes on the batch wait timer', async () => {
    const path = `/timer-${mode}`;
    const hook = await createWebhook(o.stack, o.receiver, path, {
      events: subscribed,
      batching: { mode, waitSeconds: 4, maxItems: 100 },
    });
    const started = await emitAll();
    const reqs = await o.receiver.waitFor(path, byTimer.length);
    await sleep(2500);
    expect(grouping(o.receiver.requests(path))).toEqual(byTimer);
    for (const r of reqs) {
      expectWellFormedBatch(r, hook.id);
      // The window opens with the first item, after the event was accepted.
      expect(r.receivedAt - started).toBeGreaterThanOrEqual(4000);
    }
    const ds = await deliveries(o.stack, hook.id);
    expect(ds.map((d) => d.kind)).toEqual(ds.map(() => 'batch'));
    expect(ds.reduce((n, d) => n + d.itemCount, 0)).toBe(4);
    await o.stack.request('DELETE', `/api/v1/webhooks/${hook.id}`);
  });

  test('flushes as soon as the batch holds the maximum items', async () => {
    const path = `/max-${mode}`;
    // A ten-minute wait: anything that arrives within the test was flushed by the item count.
    const hook = await createWebhook(o.stack, o.receiver, path, {
      events: subscribed,
      batching: { mode, waitSeconds: 600, maxItems: 2 },
    });
    await emitAll();
    const reqs = await o.receiver.waitFor(path, sentByMaxItems / 2);
    await sleep(1500);
    // Which events pair up depends on the order their dispatches reach the batch, so check the
    // shape: full batches only, each within one group (per the timer grouping), no event twice.
    const groupOf = (id: string) => byTimer.find((g) => g.includes(id));
    const batches = grouping(o.receiver.requests(path));
    expect(batches).toHaveLength(sentByMaxItems / 2);
    for (const b of batches) expect([b, b.length, groupOf(b[0]!) === groupOf(b[1]!)]).toEqual([b, 2, true]);
    expect(new Set(batches.join('')).size).toBe(sentByMaxItems);
    for (const r of reqs) expectWellFormedBatch(r, hook.id);
    await o.stack.request('DELETE', `/api/v1/webhooks/${hook.id}`);
  });
});

test('a batch survives a worker SIGKILL mid-window: nothing lost, nothing doubled', async () => {
  const path = '/crash';
  const hook = await createWebhook(o.stack, o.receiver, path, {
    batching: { mode: 'any_event', waitSeconds: 8, maxItems: 100 },
  });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await emit(o.stack, ticketEvent({ objectId: `K-${i}` })));
  // Wait until the lane holds the window open with all five waiting.
  const laneId = `webhook:${hook.id}`;
  await eventually(async () => {
    const n = await o.stack.db.query('SELECT count(*)::int AS n FROM batch_items WHERE webhook_id = $1', [hook.id]);
    const desc = await o.stack.temporal.workflow.getHandle(laneId).describe();
    return n.rows[0].n === 5 && desc.status.name === 'RUNNING';
  });
  await sleep(500);
  await o.stack.worker.stop('SIGKILL');
  for (let i = 5; i < 10; i++) ids.push(await emit(o.stack, ticketEvent({ objectId: `K-${i}` })));
  expect(o.receiver.requests(path)).toHaveLength(0);
  await o.stack.worker.start(/worker running/);

  const all = await eventually(async () => {
    const items = o.receiver.requests(path).flatMap((r) => r.json as Array<{ notificationId: string }>);
    return items.length >= 10 ? items : undefined;
  }, 60_000);
  await sleep(3000);
  const items = o.receiver.requests(path).flatMap((r) => r.json as Array<{ notificationId: string }>);
  expect(items).toHaveLength(10);
  expect(items.map((i) => i.notificationId).sort()).toEqual([...ids].sort());
  expect(all.length).toBe(10);
  for (const r of o.receiver.requests(path)) expectWellFormedBatch(r, hook.id);
  const stored = await o.stack.db.query(
    'SELECT count(*)::int AS n FROM batch_items WHERE webhook_id = $1 AND delivery_id IS NULL',
    [hook.id],
  );
  expect(stored.rows[0].n).toBe(0);
});

test('a long-lived lane continues as new and keeps its search attributes', async () => {
  const path = '/can';
  const hook = await createWebhook(o.stack, o.receiver, path, {
    batching: { mode: 'any_event', waitSeconds: 1, maxItems: 1 },
  });
  for (let i = 0; i < 5; i++) {
    await emit(o.stack, ticketEvent({ objectId: `C-${i}` }));
    await o.receiver.waitFor(path, i + 1);
    // The lane finishes its round (it lingers briefly) before the next event: one round each.
    await sleep(2500);
  }
  expect(o.receiver.requests(path).map((r) => r.json[0].objectId)).toEqual(['C-0', 'C-1', 'C-2', 'C-3', 'C-4']);
  const runs = await eventually(async () => {
    const found: string[] = [];
    for await (const wf of o.stack.temporal.workflow.list({ query: `WorkflowId = 'webhook:${hook.id}'` }))
      found.push(wf.status.name);
    return found.filter((s) => s === 'CONTINUED_AS_NEW').length >= 2 ? found : undefined;
  });
  expect(runs.length).toBeGreaterThanOrEqual(3);
  const byAttribute: string[] = [];
  for await (const wf of o.stack.temporal.workflow.list({
    query: `SwitchyardWebhookId = '${hook.id}' AND WorkflowType = 'webhookLane'`,
  })) {
    byAttribute.push(wf.runId);
  }
  expect(byAttribute.length).toBe(runs.length);
});

test('a disabled batching webhook holds its batch and sends it when enabled', async () => {
  const path = '/held-batch';
  const hook = await createWebhook(o.stack, o.receiver, path, {
    enabled: false,
    batching: { mode: 'any_event', waitSeconds: 1, maxItems: 100 },
  });
  expect(hook.enabled).toBe(false);
  await emit(o.stack, ticketEvent({ objectId: 'H-a' }));
  await emit(o.stack, ticketEvent({ objectId: 'H-b' }));
  const held = await eventually(async () => {
    const ds = await deliveries(o.stack, hook.id, '&status=held');
    return ds.reduce((n, d) => n + d.itemCount, 0) === 2 ? ds : undefined;
  });
  expect(o.receiver.requests(path)).toHaveLength(0);
  const enabled = await o.stack.request('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true });
  expect(enabled.body.releasedDeliveries).toBe(held.length);
  const reqs = await o.receiver.waitFor(path, held.length);
  expect(reqs.flatMap((r) => r.json.map((i: { objectId: string }) => i.objectId)).sort()).toEqual(['H-a', 'H-b']);
});

test('recorded lane histories (batching, continue-as-new, a worker kill) replay deterministically against the current code', async () => {
  const histories: Array<{ workflowId: string; history: unknown }> = [];
  const types = new Set<string>();
  const query = `TaskQueue = '${o.stack.taskQueue}' AND ExecutionStatus != 'Running'`;
  for await (const wf of o.stack.temporal.workflow.list({ query })) {
    if (wf.type !== 'webhookLane') continue;
    types.add(wf.type);
    histories.push({
      workflowId: wf.workflowId,
      history: await o.stack.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory(),
    });
    if (histories.length >= 60) break;
  }
  expect([...types]).toEqual(['webhookLane']);
  expect(histories.length).toBeGreaterThan(3);
  expect(await replayFailures(histories)).toEqual([]);
});
