import os from 'node:os';
import dns from 'node:dns/promises';
import { isPrivateAddress } from '../../src/platform/http/safe-request';
import { eventually } from '../harness/stack';
import {
  createWebhook,
  deliveries,
  deliveryIn,
  emit,
  sleep,
  startOutgoingStack,
  ticketEvent,
} from './outgoing-helpers';
import type { OutgoingStack } from './outgoing-helpers';

let o: OutgoingStack;

// Four attempts a second apart; a hung receiver is given up on after 3 s.
beforeAll(async () => {
  o = await startOutgoingStack({
    DELIVERY_RETRY_SCHEDULE: '1s,1s,1s',
    OUTBOUND_TIMEOUT_MS: '3000',
    DELIVERY_RETRY_AFTER_MAX_SECONDS: '10',
  });
});
afterAll(() => o?.stop());

const only = async (webhookId: string) => {
  const ds = await eventually(async () => {
    const list = await deliveries(o.stack, webhookId);
    return list.length > 0 ? list : undefined;
  });
  expect(ds).toHaveLength(1);
  return ds[0];
};

test('retries follow the schedule, Retry-After stretches a wait, every attempt is logged with credentials redacted', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/retry', {
    authentication: { type: 'bearer', token: 's3cret-token' },
  });
  o.receiver.script(
    '/retry',
    { status: 500, body: 'boom' },
    { status: 429, headers: { 'retry-after': '3' }, body: 'slow down' },
    { status: 503 },
  );
  await emit(o.stack, ticketEvent());
  const reqs = await o.receiver.waitFor('/retry', 4);
  const d = await deliveryIn(o.stack, (await only(hook.id)).id, ['succeeded']);

  expect(reqs.map((r) => r.answeredWith)).toEqual([500, 429, 503, 200]);
  expect(new Set(reqs.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
  expect(reqs.every((r) => r.verified[0] && r.headers['authorization'] === 'Bearer s3cret-token')).toBe(true);
  // Each timestamp is the attempt's own.
  expect(new Set(reqs.map((r) => r.headers['webhook-timestamp'])).size).toBeGreaterThan(1);
  const gaps = reqs.slice(1).map((r, i) => r.receivedAt - reqs[i]!.receivedAt);
  expect(gaps[0]).toBeGreaterThanOrEqual(1000);
  expect(gaps[1]).toBeGreaterThanOrEqual(3000);
  expect(gaps[2]).toBeGreaterThanOrEqual(1000);

  expect(d.attemptCount).toBe(4);
  expect(d.attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'failed', 'failed', 'succeeded']);
  expect(d.attempts.map((a: { response: { status: number } }) => a.response.status)).toEqual([500, 429, 503, 200]);
  const first = d.attempts[0];
  expect(first.request).toMatchObject({ method: 'POST', url: o.receiver.url('/retry'), bodyTruncated: false });
  expect(first.request.headers).toMatchObject({ authorization: '[redacted]', 'webhook-id': d.id });
  expect(JSON.parse(first.request.body).objectId).toBe(d.objectId);
  expect(first.response.body).toBe('boom');
  expect(first.error).toBe('the receiver answered 500');
  expect(first.durationMs).toEqual(expect.any(Number));
  expect(d.attempts[1].response.headers['retry-after']).toBe('3');
  expect(JSON.stringify(d)).not.toContain('s3cret-token');
});

test('a redirect is a failure and is not followed; the schedule ends in a failed delivery', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/redirect');
  for (let i = 0; i < 4; i++)
    o.receiver.script('/redirect', { status: 302, headers: { location: o.receiver.url('/elsewhere') } });
  await emit(o.stack, ticketEvent());
  const d = await deliveryIn(o.stack, (await only(hook.id)).id, ['failed']);
  expect(d.attemptCount).toBe(4);
  expect(d.lastError).toMatch(/302 \(redirects are not followed/);
  expect(o.receiver.requests('/elsewhere')).toHaveLength(0);
  expect(o.receiver.requests('/redirect')).toHaveLength(4);
});

test('a receiver that hangs is timed out and the delivery retried', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/hang');
  o.receiver.script('/hang', { hang: true });
  await emit(o.stack, ticketEvent());
  const d = await deliveryIn(o.stack, (await only(hook.id)).id, ['succeeded']);
  expect(d.attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'succeeded']);
  expect(d.attempts[0].error).toMatch(/timed out after 3000 ms/);
  expect(d.attempts[0].response).toBeNull();
});

test('410 Gone disables the webhook at once and announces "Webhook disabled"; later events are held', async () => {
  const watcher = await createWebhook(o.stack, o.receiver, '/watch-gone', { events: [{ type: 'Webhook disabled' }] });
  const hook = await createWebhook(o.stack, o.receiver, '/gone');
  o.receiver.script('/gone', { status: 410 });
  await emit(o.stack, ticketEvent());
  const d = await deliveryIn(o.stack, (await only(hook.id)).id, ['failed']);
  expect(d.attemptCount).toBe(1);
  const w = (await o.stack.request('GET', `/api/v1/webhooks/${hook.id}`)).body;
  expect(w).toMatchObject({ enabled: false, disabledReason: 'gone' });

  const [note] = await o.receiver.waitFor('/watch-gone', 1);
  expect(note!.verified).toEqual([true]);
  expect(note!.json).toMatchObject({
    event: 'Webhook disabled',
    objectId: hook.id,
    object: { reason: 'gone', name: 'hook /gone' },
  });
  expect((await deliveries(o.stack, watcher.id))[0].eventType).toBe('webhook.disabled');

  await emit(o.stack, ticketEvent());
  await eventually(async () => (await deliveries(o.stack, hook.id, '&status=held')).length === 1);
  expect(o.receiver.requests('/gone')).toHaveLength(1);
});

test('auto-disable after N consecutive failed deliveries (a success resets the streak); held events go out on re-enable', async () => {
  const watcher = await createWebhook(o.stack, o.receiver, '/watch-auto', { events: [{ type: 'Webhook disabled' }] });
  const hook = await createWebhook(o.stack, o.receiver, '/flaky', { autoDisableThreshold: 2 });
  const fail4 = () => {
    for (let i = 0; i < 4; i++) o.receiver.script('/flaky', { status: 500 });
  };
  const deliverOne = async (statuses: string[]) => {
    const before = (await deliveries(o.stack, hook.id)).length;
    await emit(o.stack, ticketEvent());
    const ds = await eventually(async () => {
      const list = await deliveries(o.stack, hook.id);
      return list.length > before && statuses.includes(list[0].status) ? list : undefined;
    }, 30_000);
    return ds[0];
  };
  fail4();
  expect((await deliverOne(['failed'])).status).toBe('failed');
  expect((await deliverOne(['succeeded'])).status).toBe('succeeded');
  fail4();
  await deliverOne(['failed']);
  let w = (await o.stack.request('GET', `/api/v1/webhooks/${hook.id}`)).body;
  expect(w).toMatchObject({ enabled: true, consecutiveFailures: 1 });
  fail4();
  await deliverOne(['failed']);
  w = (await o.stack.request('GET', `/api/v1/webhooks/${hook.id}`)).body;
  expect(w).toMatchObject({ enabled: false, disabledReason: 'auto_disabled', consecutiveFailures: 2 });
  const [note] = await o.receiver.waitFor('/watch-auto', 1);
  expect(note!.json.object).toMatchObject({ reason: 'auto_disabled' });
  expect(await deliveries(o.stack, watcher.id)).toHaveLength(1);

  const seen = o.receiver.requests('/flaky').length;
  const held = [
    await emit(o.stack, ticketEvent({ objectId: 'H-1' })),
    await emit(o.stack, ticketEvent({ objectId: 'H-2' })),
  ];
  await eventually(async () => (await deliveries(o.stack, hook.id, '&status=held')).length === 2);
  await sleep(500);
  expect(o.receiver.requests('/flaky')).toHaveLength(seen);

  const enabled = await o.stack.request('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true });
  expect(enabled.status).toBe(200);
  expect(enabled.body).toMatchObject({
    enabled: true,
    consecutiveFailures: 0,
    disabledReason: null,
    releasedDeliveries: 2,
  });
  const released = await o.receiver.waitFor('/flaky', seen + 2);
  expect(
    released
      .slice(seen)
      .map((r) => r.json.notificationId)
      .sort(),
  ).toEqual([...held].sort());
  await eventually(async () => (await deliveries(o.stack, hook.id, '&status=succeeded')).length === 3);
});

test('resend one delivery, then all failed since a time, then by ids; the webhook-id stays the same', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/resend');
  const since = new Date().toISOString();
  for (let i = 0; i < 12; i++) o.receiver.script('/resend', { status: 500 });
  for (let i = 0; i < 3; i++) await emit(o.stack, ticketEvent({ objectId: `R-${i}` }));
  const failed = await eventually(async () => {
    const list = await deliveries(o.stack, hook.id, '&status=failed');
    return list.length === 3 ? list : undefined;
  }, 30_000);

  const one = await o.stack.request('POST', `/api/v1/deliveries/${failed[0].id}/resend`);
  expect(one.status).toBe(202);
  const d = await deliveryIn(o.stack, failed[0].id, ['succeeded']);
  expect(d).toMatchObject({ resendCount: 1, attemptCount: 5 });
  const resent = o.receiver.requests('/resend').filter((r) => r.headers['webhook-id'] === failed[0].id);
  expect(resent.map((r) => r.answeredWith)).toEqual([500, 500, 500, 500, 200]);

  const bulk = await o.stack.request('POST', `/api/v1/webhooks/${hook.id}/deliveries/resend`, { failedSince: since });
  expect(bulk.status).toBe(202);
  expect(bulk.body.resent.sort()).toEqual([failed[1].id, failed[2].id].sort());
  await eventually(async () => (await deliveries(o.stack, hook.id, '&status=succeeded')).length === 3);

  const byIds = await o.stack.request('POST', `/api/v1/webhooks/${hook.id}/deliveries/resend`, {
    ids: [failed[1].id, '00000000-0000-4000-8000-000000000000'],
  });
  expect(byIds.body.resent).toEqual([failed[1].id]);
  expect(byIds.body.refused).toEqual([expect.objectContaining({ code: 'delivery_not_found' })]);
  await eventually(async () => (await deliveryIn(o.stack, failed[1].id, ['succeeded'])).resendCount === 2);

  const neither = await o.stack.request('POST', `/api/v1/webhooks/${hook.id}/deliveries/resend`, {
    ids: [],
    failedSince: since,
  });
  expect(neither.status).toBe(400);
});

test('a delivery still being attempted cannot be re-sent until it finishes', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/busy');
  o.receiver.script('/busy', { hang: true });
  await emit(o.stack, ticketEvent());
  await o.receiver.waitFor('/busy', 1);
  const d = await only(hook.id);
  const res = await o.stack.request('POST', `/api/v1/deliveries/${d.id}/resend`);
  expect(res.status).toBe(409);
  expect(res.body.error.code).toBe('delivery_in_progress');
  await deliveryIn(o.stack, d.id, ['succeeded']);
});

test('lightweight logs keep status and timing only, and refuse a resend with 409', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/light', {
    lightweightLogs: true,
    authentication: { type: 'basic', username: 'halo', password: 'pa55' },
  });
  o.receiver.script('/light', { status: 500, body: 'secret server detail' });
  await emit(o.stack, ticketEvent());
  const d = await deliveryIn(o.stack, (await only(hook.id)).id, ['succeeded']);
  expect(d.payload).toBeNull();
  expect(d.lightweightLogs).toBe(true);
  expect(d.attempts).toHaveLength(2);
  for (const a of d.attempts) {
    expect(a.request).toBeNull();
    expect(a.response).toEqual({ status: expect.any(Number), headers: null, body: null, bodyTruncated: null });
    expect(a.durationMs).toEqual(expect.any(Number));
  }
  const one = await o.stack.request('POST', `/api/v1/deliveries/${d.id}/resend`);
  expect(one.status).toBe(409);
  expect(one.body.error).toMatchObject({
    code: 'lightweight_logs',
    message: expect.stringMatching(/lightweight logs/),
  });
  const bulk = await o.stack.request('POST', `/api/v1/webhooks/${hook.id}/deliveries/resend`, { ids: [d.id] });
  expect(bulk.status).toBe(409);
  expect(bulk.body.error.code).toBe('lightweight_logs');
});

test('secret rotation: both signatures during the grace period, one after; secrets are never returned', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/rotate', {
    authentication: { type: 'header', name: 'X-Api-Key', value: 'k-123' },
  });
  const a = hook.signingSecret as string;
  expect(a).toMatch(/^whsec_/);
  await emit(o.stack, ticketEvent());
  await o.receiver.waitFor('/rotate', 1);

  const rotated = await o.stack.request('POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { graceSeconds: 3600 });
  expect(rotated.status).toBe(200);
  const b = rotated.body.signingSecret as string;
  expect(rotated.body.signing).toMatchObject({ activeSecrets: 2, previousSecretsExpireAt: [expect.any(String)] });
  o.receiver.setSecrets('/rotate', [a, b]);
  await emit(o.stack, ticketEvent());
  const [, during] = await o.receiver.waitFor('/rotate', 2);
  expect(during!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
  expect(during!.verified).toEqual([true, true]);
  expect(during!.headers['x-api-key']).toBe('k-123');

  const mine = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
  const ended = await o.stack.request('POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, {
    secret: mine,
    graceSeconds: 0,
  });
  expect(ended.body.signingSecret).toBeUndefined();
  o.receiver.setSecrets('/rotate', [a, b, mine]);
  await emit(o.stack, ticketEvent());
  const [, , after] = await o.receiver.waitFor('/rotate', 3);
  expect(after!.headers['webhook-signature']!.split(' ')).toHaveLength(1);
  expect(after!.verified).toEqual([false, false, true]);

  const shown = await o.stack.request('GET', `/api/v1/webhooks/${hook.id}`);
  expect(shown.body.authentication).toEqual({ type: 'header', name: 'X-Api-Key', hasValue: true });
  for (const secret of [a, b, mine, 'k-123']) expect(shown.text).not.toContain(secret);
  const bad = await o.stack.request('POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { secret: 'whsec_short' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe('invalid_signing_secret');
});

test('the deliveries log filters by status, event and time, and paginates', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/log', {
    events: [{ type: 'Ticket Changed' }, { type: 'New Ticket Logged' }],
  });
  o.receiver.script('/log', { status: 410 });
  await emit(o.stack, ticketEvent({ objectId: 'L-0' }));
  await eventually(async () => (await deliveries(o.stack, hook.id, '&status=failed')).length === 1);
  await o.stack.request('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true });
  for (let i = 1; i <= 4; i++)
    await emit(o.stack, ticketEvent({ objectId: `L-${i}`, type: i % 2 ? 'New Ticket Logged' : 'Ticket Changed' }));
  await eventually(async () => (await deliveries(o.stack, hook.id, '&status=succeeded')).length === 4);

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { data: Array<{ objectId: string }>; nextCursor: string | null } } = await o.stack.request(
      'GET',
      `/api/v1/webhooks/${hook.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.body.data.length).toBeLessThanOrEqual(2);
    seen.push(...page.body.data.map((d) => d.objectId));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen.sort()).toEqual(['L-0', 'L-1', 'L-2', 'L-3', 'L-4']);

  const logged = await deliveries(o.stack, hook.id, '&eventType=New%20Ticket%20Logged');
  expect(logged.map((d) => d.objectId).sort()).toEqual(['L-1', 'L-3']);
  expect((await deliveries(o.stack, hook.id, '&status=failed')).map((d) => d.objectId)).toEqual(['L-0']);
  expect(
    await deliveries(o.stack, hook.id, `&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`),
  ).toEqual([]);
  const bad = await o.stack.request('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=lost`);
  expect(bad.status).toBe(400);
});

test('a payload URL whose name resolves to a private address is refused at send time (DNS rebinding guard)', async () => {
  const host = os.hostname();
  const addresses = await dns.lookup(host, { all: true });
  // The guard is only observable when this machine's name points at a private address (it usually does).
  if (!addresses.some((a) => isPrivateAddress(a.address))) return;
  const hook = await createWebhook(o.stack, o.receiver, '/rebind', { url: `http://${host}:${o.receiver.port}/rebind` });
  await emit(o.stack, ticketEvent());
  const d = await deliveryIn(o.stack, (await only(hook.id)).id, ['failed']);
  expect(d.attemptCount).toBe(1);
  expect(d.lastError).toMatch(/refused before sending: .* private or reserved address/);
  expect(o.receiver.requests('/rebind')).toHaveLength(0);
});
