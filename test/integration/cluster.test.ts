import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { ProductProcess } from '../harness/processes';
import { Receiver } from '../harness/receiver';
import { eventually, fetchJson, harness } from '../harness/stack';
import { startTemporalCluster, type TemporalCluster } from '../harness/temporal-cluster';
import {
  createMailbox,
  processed,
  startMailStack,
  subscribe,
  SUPPORT,
  workflowState,
  type MailStack,
} from './mailbox-helpers';
import { createWebhook, deliveries, emit, ticketEvent } from './outgoing-helpers';

/**
 * The scale-out profile on a real Temporal server (temporal-server 1.29.1, PostgreSQL
 * persistence and visibility, 4 history shards) set up by deploy/temporal — the steps
 * docker-compose.yml runs — with two API replicas and two workers. The first run builds the
 * server with Go (several minutes); later runs reuse the build.
 */
let cluster: TemporalCluster;
let m: MailStack;
let receiver: Receiver;
const extra: ProductProcess[] = [];
let apis: string[];
const suiteStarted = Date.now();
const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

beforeAll(async () => {
  cluster = await startTemporalCluster({ adminDatabaseUrl: harness().adminDatabaseUrl, log: say });
  say(
    `temporal-server on ${cluster.address}, namespace ${cluster.namespace}; seconds: ${JSON.stringify(cluster.timings)}`,
  );
  [m, receiver] = await Promise.all([
    startMailStack({
      // Graph allows 15-second subscriptions; renewing within 10 s of expiry renews every ~5 s.
      emulator: { subscriptionMaxMinutes: 0.25 },
      env: {
        TEMPORAL_ADDRESS: cluster.address,
        TEMPORAL_NAMESPACE: cluster.namespace,
        MAILBOX_RENEW_BEFORE: '10s',
        DELIVERY_RETRY_SCHEDULE: '1s,1s,2s,2s,5s,5s',
      },
    }),
    Receiver.start(),
  ]);
  // The second replica of each: same database, task queue and Temporal namespace.
  const api2 = new ProductProcess('src/server.ts', { ...m.stack.env, HTTP_PORT: '0' });
  const worker2 = new ProductProcess('src/worker.ts', m.stack.env);
  extra.push(api2, worker2);
  const [match] = await Promise.all([
    api2.start(/"port":(\d+),"msg":"api listening"/),
    worker2.start(/worker running/),
  ]);
  apis = [m.stack.apiUrl, `http://127.0.0.1:${match![1]}`];
  say(`stack up after ${Math.round((Date.now() - suiteStarted) / 1000)} s`);
}, 25 * 60_000);

afterAll(async () => {
  await Promise.all(extra.map((p) => p.stop()));
  await m?.stop();
  await receiver?.close();
  await cluster?.stop();
  say(`suite wall time ${Math.round((Date.now() - suiteStarted) / 1000)} s`);
}, 120_000);

/** Signs and posts a generic webhook to one API replica. */
function postGeneric(
  api: string,
  integration: { id: string; signingSecret: string },
  body: string,
  signed = signStandardWebhook(body, integration.signingSecret),
) {
  return fetchJson(`${api}/hooks/generic/${integration.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed },
    body,
  });
}

async function genericIntegration(name: string, forwardPath: string) {
  const res = await m.stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name,
    processingMethod: 'service_immediate',
    settings: { forwardUrl: receiver.url(forwardPath) },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; signingSecret: string };
}

test('the namespace has our retention and search attributes', async () => {
  const ns = await m.stack.temporal.connection.workflowService.describeNamespace({ namespace: cluster.namespace });
  expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 86_400);
  const sa = await m.stack.temporal.connection.operatorService.listSearchAttributes({ namespace: cluster.namespace });
  expect(Object.keys(sa.customAttributes ?? {})).toEqual(
    expect.arrayContaining(['SwitchyardIntegrationId', 'SwitchyardWebhookId', 'SwitchyardMailboxId']),
  );
});

test('incoming: generic webhooks with the service method, sent to both replicas twice, each processed once', async () => {
  const integration = await genericIntegration('cluster incoming', '/incoming');
  const bodies = Array.from({ length: 10 }, (_, i) => JSON.stringify({ type: 'Ticket Changed', id: `IN-${i}` }));
  const answers = await Promise.all(
    bodies.flatMap((body) => {
      // One delivery (one signed webhook-id) sent to both replicas.
      const signed = signStandardWebhook(body, integration.signingSecret);
      return apis.map((api) => postGeneric(api, integration, body, signed));
    }),
  );
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
  expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(10);
  expect(answers[0]!.body.message).toMatch(/deferred to the incoming webhook service/);

  await eventually(async () => {
    const s = await m.stack.request('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integration.id}`);
    return s.body.byStatus.succeeded === 10;
  }, 60_000);
  const forwarded = receiver.requests('/incoming').map((r) => r.json.id as string);
  expect(new Set(forwarded)).toEqual(new Set(bodies.map((b) => JSON.parse(b).id as string)));
  // Found through the namespace's custom search attributes (SQL visibility).
  const found = await eventually(async () => {
    const ids: string[] = [];
    for await (const wf of m.stack.temporal.workflow.list({ query: `SwitchyardIntegrationId = '${integration.id}'` }))
      ids.push(wf.workflowId);
    return ids.length >= 10 ? ids : undefined;
  });
  expect(found.length).toBeGreaterThanOrEqual(10);
});

test('outgoing: an event is delivered signed, and a batch carries every event once', async () => {
  const hook = await createWebhook(m.stack, receiver, '/outgoing');
  const event = ticketEvent();
  await emit(m.stack, event);
  const [request] = await receiver.waitFor('/outgoing', 1);
  expect(request!.verified).toEqual([true]);
  expect(request!.json).toMatchObject({ objectId: event.objectId, webhookId: hook.id });
  await eventually(async () => {
    const ds = await deliveries(m.stack, hook.id);
    return ds.length === 1 && ds[0].status === 'succeeded';
  });

  const batched = await createWebhook(m.stack, receiver, '/batch', {
    batching: { mode: 'any_event', waitSeconds: 3, maxItems: 100 },
  });
  const objectIds = ['B-1', 'B-2', 'B-3', 'B-4'];
  // Events enter through both replicas.
  for (const [i, objectId] of objectIds.entries()) {
    const res = await fetchJson(`${apis[i % 2]}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${m.stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(ticketEvent({ objectId })),
    });
    expect(res.status).toBe(202);
  }
  const reqs = await eventually(async () => {
    const rs = receiver.requests('/batch');
    const items = rs.flatMap((r) => r.json as Array<{ objectId: string }>);
    return items.length >= objectIds.length ? rs : undefined;
  }, 30_000);
  const items = reqs.flatMap((r) => r.json as Array<{ objectId: string; webhookId: string }>);
  expect(items.map((i) => i.objectId).sort()).toEqual(objectIds);
  expect(items.every((i) => i.webhookId === batched.id)).toBe(true);
  expect(reqs.every((r) => r.verified[0])).toBe(true);
});

test('mailbox: the subscription workflow subscribes, renews, and turns mail into a ticket', async () => {
  const mailbox = await createMailbox(m);
  const created = await subscribe(m, mailbox.id);
  expect(created).toMatchObject({ created: true, status: 'active' });
  const state = await eventually(async () => {
    const s = await workflowState(m, mailbox.id);
    return s.renewals >= 1 ? s : undefined;
  }, 60_000);
  expect(state.id).toBe(created.id);
  expect(
    m.emulator
      .subscriptions()
      .filter((s) => s.resource.includes(SUPPORT))
      .map((s) => s.id),
  ).toEqual([created.id]);

  const mail = m.emulator.deliverMessage(SUPPORT, {
    from: 'erin@customer.test',
    subject: 'Printer jam',
    body: 'again',
  });
  const entry = await processed(m, mailbox.id, mail.internetMessageId, 60_000);
  expect(entry).toMatchObject({ status: 'ticket_created' });
});

describe('a worker SIGKILLed and the Temporal server restarted mid-flow', () => {
  // A receiver that takes its time, so deliveries are still in flight when the worker dies.
  let slow: Server;
  let slowUrl: string;
  const seen: Array<{ id: string; objectId: string }> = [];
  beforeAll(async () => {
    slow = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        setTimeout(() => {
          seen.push({ id: String(req.headers['webhook-id']), objectId: JSON.parse(body).objectId as string });
          res.writeHead(200).end('ok');
        }, 150);
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
  });
  afterAll(() => new Promise<void>((r) => slow.close(() => r())));

  test(
    'loses and doubles nothing',
    async () => {
      const integration = await genericIntegration('cluster chaos', '/chaos-in');
      const hook = await m.stack.request('POST', '/api/v1/webhooks', {
        name: 'chaos',
        url: slowUrl,
        events: [{ type: 'Ticket Changed' }],
      });
      expect(hook.status).toBe(201);
      const N = 30;
      const objectIds = Array.from({ length: N }, (_, i) => `C-${i}`);
      const bodies = objectIds.map((id) => JSON.stringify({ type: 'Ticket Changed', id }));
      const incoming = await Promise.all(bodies.map((body, i) => postGeneric(apis[i % 2]!, integration, body)));
      expect(incoming.map((a) => a.status)).toEqual(incoming.map(() => 202));
      for (const objectId of objectIds) await emit(m.stack, ticketEvent({ objectId }));

      // Mid-flow: outgoing deliveries have started but not finished.
      await eventually(async () => seen.length >= 1, 30_000, 20);
      expect(seen.length).toBeLessThan(N);
      let t = Date.now();
      expect(await m.stack.worker.stop('SIGKILL')).toBeNull();
      say(`worker SIGKILLed with ${seen.length}/${N} deliveries received`);
      await cluster.restart('SIGKILL');
      say(`temporal-server SIGKILLed and serving again after ${Date.now() - t} ms`);
      t = Date.now();
      await m.stack.worker.start(/worker running/, 300_000);
      say(`worker restarted after ${Date.now() - t} ms`);

      // Every incoming webhook recorded once and processed.
      await eventually(async () => {
        const s = await m.stack.request('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integration.id}`);
        return s.body.byStatus.succeeded === N ? s : undefined;
      }, 120_000);
      const rows = await m.stack.db.query(
        'SELECT count(*)::int AS n FROM incoming_webhooks WHERE integration_id = $1',
        [integration.id],
      );
      expect(rows.rows[0].n).toBe(N);
      expect(new Set(receiver.requests('/chaos-in').map((r) => r.json.id))).toEqual(new Set(objectIds));

      // Every event delivered; one delivery per event, all succeeded. A delivery cut off by the
      // SIGKILL may reach the receiver twice, always under the same webhook-id (receivers dedupe on it).
      const ds = await eventually(async () => {
        const list = await deliveries(m.stack, hook.body.id);
        return list.length === N && list.every((d) => d.status === 'succeeded') ? list : undefined;
      }, 120_000);
      expect(new Set(ds.map((d) => d.objectId))).toEqual(new Set(objectIds));
      const byId = new Map<string, Set<string>>();
      for (const s of seen) byId.set(s.id, (byId.get(s.id) ?? new Set()).add(s.objectId));
      expect(byId.size).toBe(N);
      expect([...byId.values()].every((objects) => objects.size === 1)).toBe(true);
      expect(new Set(seen.map((s) => s.objectId))).toEqual(new Set(objectIds));
      say(`receiver saw ${seen.length} requests for ${N} deliveries (a repeat keeps its webhook-id)`);
    },
    10 * 60_000,
  );
});
