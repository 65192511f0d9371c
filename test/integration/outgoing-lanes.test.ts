import type { RecordedRequest } from '../harness/receiver';
import { replayFailures } from '../harness/replay';
import { eventually } from '../harness/stack';
import { createWebhook, deliveries, emit, sleep, startOutgoingStack, ticketEvent } from './outgoing-helpers';
import type { OutgoingStack } from './outgoing-helpers';

let o: OutgoingStack;

// Quick retries; a 2 s HTTP timeout makes a dead worker's claims expire after 12 s; three
// rounds per run make continue-as-new happen within a test.
beforeAll(async () => {
  o = await startOutgoingStack({
    DELIVERY_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s',
    OUTBOUND_TIMEOUT_MS: '2000',
    DELIVERY_RETRY_AFTER_MAX_SECONDS: '10',
    LANE_MAX_ROUNDS_PER_RUN: '3',
    LANE_IDLE_SECONDS: '5',
  });
});
afterAll(() => o?.stop());

const objectIds = (reqs: RecordedRequest[]) => reqs.map((r) => r.json.objectId as string);
/** Consecutive repeats collapsed: a retry or a re-send after a lost answer is one step of the order. */
const steps = (ids: string[]) => ids.filter((id, i) => id !== ids[i - 1]);

async function allSucceeded(webhookId: string, n: number, timeoutMs = 90_000) {
  return eventually(async () => {
    const ds = await deliveries(o.stack, webhookId, '&status=succeeded');
    return ds.length === n ? ds : undefined;
  }, timeoutMs);
}

/** Delivery ids whose attempt log records a re-send after a lost answer. */
async function resentAfterLoss(webhookId: string): Promise<Set<string>> {
  const { rows } = await o.stack.db.query(
    `SELECT DISTINCT a.delivery_id FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
     WHERE d.webhook_id = $1 AND a.status = 'abandoned'`,
    [webhookId],
  );
  return new Set(rows.map((r: { delivery_id: string }) => r.delivery_id));
}

test('strict ordering: the next delivery waits for the previous one, across retries and a worker SIGKILL', async () => {
  const path = '/fifo';
  const hook = await createWebhook(o.stack, o.receiver, path, { strictOrdering: true, concurrencyLimit: 5 });
  expect(hook).toMatchObject({ strictOrdering: true, concurrencyLimit: 5, rateLimitPerSecond: null });
  o.receiver.setDefault(path, { status: 200, delayMs: 150 });
  // The second and fifth events fail twice before they are taken.
  const ids = Array.from({ length: 12 }, (_, i) => `F-${String(i).padStart(2, '0')}`);
  o.receiver.script(path, { status: 200 }, { status: 500 }, { status: 503 });
  for (const objectId of ids) await emit(o.stack, ticketEvent({ objectId }));
  await o.receiver.waitFor(path, 6);
  await o.stack.worker.stop('SIGKILL');
  o.receiver.script(path, { status: 500 }, { status: 500 });
  await o.stack.worker.start(/worker running/);
  await allSucceeded(hook.id, ids.length);
  o.receiver.setDefault(path, undefined);

  const seen = objectIds(o.receiver.requests(path));
  expect(steps(seen)).toEqual(ids);
  expect(o.receiver.maxConcurrent(path)).toBe(1);
  await o.stack.request('DELETE', `/api/v1/webhooks/${hook.id}`);
});

test('the concurrency limit and the rate limit are never exceeded', async () => {
  const slow = await createWebhook(o.stack, o.receiver, '/limited', { concurrencyLimit: 3 });
  o.receiver.setDefault('/limited', { status: 200, delayMs: 300 });
  const paced = await createWebhook(o.stack, o.receiver, '/paced', { rateLimitPerSecond: 4, concurrencyLimit: 20 });
  // The same events fan out to both: one event type, two webhooks.
  for (let i = 0; i < 24; i++) await emit(o.stack, ticketEvent({ objectId: `C-${i}` }));
  await allSucceeded(slow.id, 24);
  await allSucceeded(paced.id, 24);
  expect(o.receiver.maxConcurrent('/limited')).toBe(3);

  // At most 4 requests sent in any second, by the attempt log's send times; at the receiver, whose
  // arrival times jitter under load, at most one more, and never faster than 4/s overall.
  const inAnySecond = (ts: number[]) => Math.max(...ts.map((t) => ts.filter((u) => u >= t && u < t + 1000).length));
  const { rows } = await o.stack.db.query(
    `SELECT (extract(epoch from a.started_at) * 1000)::bigint AS t FROM delivery_attempts a
     JOIN deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = $1`,
    [paced.id],
  );
  expect(inAnySecond(rows.map((r: { t: string }) => Number(r.t)))).toBeLessThanOrEqual(4);
  const at = o.receiver.requests('/paced').map((r) => r.receivedAt);
  expect(inAnySecond(at)).toBeLessThanOrEqual(5);
  const span = (Math.max(...at) - Math.min(...at)) / 1000;
  expect(span).toBeGreaterThanOrEqual(5.5);
  o.receiver.setDefault('/limited', undefined);
  await o.stack.request('DELETE', `/api/v1/webhooks/${slow.id}`);
  await o.stack.request('DELETE', `/api/v1/webhooks/${paced.id}`);
});

test('a receiver outage: every delivery arrives once it is back, each wait honouring Retry-After', async () => {
  const path = '/outage';
  const hook = await createWebhook(o.stack, o.receiver, path);
  o.receiver.setDefault(path, { status: 503, headers: { 'retry-after': '2' }, body: 'down' });
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(await emit(o.stack, ticketEvent({ objectId: `O-${i}` })));
  await o.receiver.waitFor(path, 10);
  o.receiver.setDefault(path, undefined);
  await allSucceeded(hook.id, 5);

  const byId = new Map<string, RecordedRequest[]>();
  for (const r of o.receiver.requests(path))
    byId.set(r.headers['webhook-id']!, [...(byId.get(r.headers['webhook-id']!) ?? []), r]);
  expect(byId.size).toBe(5);
  for (const reqs of byId.values()) {
    expect(reqs.at(-1)!.answeredWith).toBe(200);
    expect(reqs.filter((r) => r.answeredWith === 200)).toHaveLength(1);
    // After each 503 the next attempt waited the 2 s Retry-After asked for, not the 1 s schedule.
    for (let i = 1; i < reqs.length; i++)
      expect(reqs[i]!.receivedAt - reqs[i - 1]!.receivedAt).toBeGreaterThanOrEqual(1950);
  }
  expect(new Set(o.receiver.requests(path).map((r) => r.json.notificationId))).toEqual(new Set(sent));
  await o.stack.request('DELETE', `/api/v1/webhooks/${hook.id}`);
});

test('a worker SIGKILLed mid-lane loses nothing and doubles nothing but re-sends after a lost answer, which are recorded', async () => {
  const path = '/crash-lane';
  const hook = await createWebhook(o.stack, o.receiver, path, { concurrencyLimit: 5 });
  o.receiver.setDefault(path, { status: 200, delayMs: 400 });
  const events: string[] = [];
  for (let i = 0; i < 40; i++) events.push(await emit(o.stack, ticketEvent({ objectId: `K-${i}` })));
  await o.receiver.waitFor(path, 8);
  await o.stack.worker.stop('SIGKILL');
  await o.stack.worker.start(/worker running/);
  await allSucceeded(hook.id, 40);
  o.receiver.setDefault(path, undefined);

  const reqs = o.receiver.requests(path);
  const perId = new Map<string, number>();
  for (const r of reqs) perId.set(r.headers['webhook-id']!, (perId.get(r.headers['webhook-id']!) ?? 0) + 1);
  expect(perId.size).toBe(40);
  expect(new Set(reqs.map((r) => r.json.notificationId))).toEqual(new Set(events));
  // A message arrived twice only when the worker died before recording its answer — and the
  // attempt log says so for exactly those.
  const doubled = [...perId].filter(([, n]) => n > 1).map(([id]) => id);
  const recorded = await resentAfterLoss(hook.id);
  for (const id of doubled) expect(recorded.has(id)).toBe(true);
  expect(doubled.length).toBeLessThanOrEqual(5);
  await o.stack.request('DELETE', `/api/v1/webhooks/${hook.id}`);
});

test('a slow endpoint does not delay another webhook', async () => {
  const slow = await createWebhook(o.stack, o.receiver, '/iso-slow');
  o.receiver.setDefault('/iso-slow', { hang: true });
  const fast = await createWebhook(o.stack, o.receiver, '/iso-fast');
  for (let i = 0; i < 10; i++) await emit(o.stack, ticketEvent({ objectId: `I-${i}` }));
  const reqs = await o.receiver.waitFor('/iso-fast', 10, 15_000);
  expect(reqs).toHaveLength(10);
  // The slow webhook's lane is at work too (its first request may connect just after the fast ones).
  await eventually(async () => o.receiver.requests('/iso-slow').length > 0, 15_000);
  await o.stack.request('DELETE', `/api/v1/webhooks/${slow.id}`);
  o.receiver.setDefault('/iso-slow', undefined);
  await allSucceeded(fast.id, 10);
  await o.stack.request('DELETE', `/api/v1/webhooks/${fast.id}`);
});

test('the lane shows its state (query, UI details, API) and continues as new under a long run, keeping its counters', async () => {
  const path = '/long';
  const hook = await createWebhook(o.stack, o.receiver, path);
  let n = 0;
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 3; i++) await emit(o.stack, ticketEvent({ objectId: `L-${n++}` }));
    await o.receiver.waitFor(path, n);
    // Let the lane finish its round and sleep, so the next burst is a new round.
    await sleep(2500);
  }
  const runs = await eventually(async () => {
    const found: string[] = [];
    for await (const wf of o.stack.temporal.workflow.list({ query: `WorkflowId = 'webhook:${hook.id}'` }))
      found.push(wf.status.name);
    return found.filter((s) => s === 'CONTINUED_AS_NEW').length >= 1 ? found : undefined;
  });
  expect(runs.length).toBeGreaterThanOrEqual(2);

  const lane = await eventually(async () => {
    const res = await o.stack.request('GET', `/api/v1/webhooks/${hook.id}/lane`);
    return res.body?.counters?.succeeded === n ? res.body : undefined;
  });
  expect(lane).toMatchObject({
    running: true,
    source: 'lane',
    webhookId: hook.id,
    queued: 0,
    inFlight: 0,
    enabled: true,
    workflowId: `webhook:${hook.id}`,
    counters: { attempts: n, succeeded: n, failed: 0 },
  });
  // The Temporal UI shows the same state as the workflow's current details.
  const meta = await o.stack.temporal.workflow
    .getHandle(`webhook:${hook.id}`)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(meta.currentDetails).toContain(`succeeded ${n}`);

  // Once idle the lane ends; the API then answers from PostgreSQL.
  await eventually(async () => {
    const res = await o.stack.request('GET', `/api/v1/webhooks/${hook.id}/lane`);
    return res.body?.running === false ? res.body : undefined;
  }, 30_000);
  const after = await o.stack.request('GET', `/api/v1/webhooks/${hook.id}/lane`);
  expect(after.body).toMatchObject({ running: false, source: 'database', queued: 0, inFlight: 0, counters: null });
});

test('a lane that is sending is not signalled per event: a stream of 30 events costs a few signals', async () => {
  const path = '/stream';
  const hook = await createWebhook(o.stack, o.receiver, path);
  for (let i = 0; i < 30; i++) {
    await emit(o.stack, ticketEvent({ objectId: `S-${i}` }));
    await sleep(100);
  }
  await allSucceeded(hook.id, 30);
  expect(new Set(objectIds(o.receiver.requests(path))).size).toBe(30);

  let signals = 0;
  for await (const wf of o.stack.temporal.workflow.list({ query: `WorkflowId = 'webhook:${hook.id}'` })) {
    const history = await o.stack.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    signals += (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
  }
  // The first event starts the lane; the rest are found by the round polling its queue.
  expect(signals).toBeLessThanOrEqual(5);
  await o.stack.request('DELETE', `/api/v1/webhooks/${hook.id}`);
});

test('recorded lane histories (ordering, limits, a worker kill, continue-as-new) replay deterministically', async () => {
  const query = `TaskQueue = '${o.stack.taskQueue}' AND ExecutionStatus != 'Running' AND WorkflowType = 'webhookLane'`;
  // Lanes of the earlier tests end when idle (5 s here) and reach visibility a moment later.
  const histories = await eventually(async () => {
    const found: Array<{ workflowId: string; history: unknown }> = [];
    for await (const wf of o.stack.temporal.workflow.list({ query })) {
      found.push({
        workflowId: wf.workflowId,
        history: await o.stack.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory(),
      });
      if (found.length >= 40) break;
    }
    return found.length > 3 ? found : undefined;
  }, 60_000);
  expect(await replayFailures(histories)).toEqual([]);
});
