import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { ProductProcess } from '../harness/processes';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';

let stack: Stack;
const extra: ProductProcess[] = [];

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await Promise.all(extra.map((p) => p.stop()));
  await stack?.stop();
});

test('two API replicas and two workers share the work: every webhook processed exactly once', async () => {
  const api2 = new ProductProcess('src/server.ts', stack.env);
  const worker2 = new ProductProcess('src/worker.ts', stack.env);
  extra.push(api2, worker2);
  const [m] = await Promise.all([api2.start(/"port":(\d+),"msg":"api listening"/), worker2.start(/worker running/)]);
  const apis = [stack.apiUrl, `http://127.0.0.1:${m![1]}`];

  const created = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'replicated' });
  const bodies = Array.from({ length: 40 }, (_, i) => JSON.stringify({ type: 'Ticket Changed', id: `T-${i}` }));
  // Every webhook is sent to both replicas at once, as a retrying provider behind a load balancer might.
  const answers = await Promise.all(
    bodies.flatMap((body) => {
      // One delivery (one signed webhook-id), sent twice.
      const signed = signStandardWebhook(body, created.body.signingSecret);
      return apis.map((api) =>
        fetchJson(`${api}/hooks/generic/${created.body.id}`, { method: 'POST', headers: signed, body }),
      );
    }),
  );
  expect(answers.every((a) => a.status === 202)).toBe(true);
  expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(40);

  await eventually(async () => {
    const s = await stack.request('GET', `/api/v1/incoming-webhooks/summary?integrationId=${created.body.id}`);
    return s.body.byStatus.succeeded === 40;
  }, 60_000);
  const attempts = await stack.db.query(
    `SELECT count(*)::int AS n FROM incoming_webhook_attempts a JOIN incoming_webhooks w ON w.id = a.webhook_id
      WHERE w.integration_id = $1`,
    [created.body.id],
  );
  expect(attempts.rows[0].n).toBe(40);
  // Both workers took part.
  expect(worker2.output).toMatch(/incoming webhook attempt finished/);
  expect(stack.worker.output).toMatch(/incoming webhook attempt finished/);
});

describe('graceful worker shutdown', () => {
  let receiver: Server;
  let url: string;
  let received = 0;
  beforeAll(async () => {
    receiver = createServer((_req, res) => {
      received++;
      setTimeout(() => res.writeHead(200).end('ok'), 2000);
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/slow`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  test('SIGTERM lets the worker finish the activity it is running, then it exits 0', async () => {
    // Only one worker may hold the task: stop the replica from the previous test.
    await Promise.all(extra.map((p) => p.stop()));
    const created = await stack.request('POST', '/api/v1/integrations', {
      provider: 'generic',
      name: 'slow relay',
      settings: { forwardUrl: url },
    });
    const body = JSON.stringify({ type: 'User updated', id: 'U-9' });
    const accepted = await fetchJson(`${stack.apiUrl}/hooks/generic/${created.body.id}`, {
      method: 'POST',
      headers: { ...signStandardWebhook(body, created.body.signingSecret) },
      body,
    });
    await eventually(async () => received === 1);
    expect(await stack.worker.stop('SIGTERM')).toBe(0);
    const row = await stack.db.query('SELECT status, attempts_made FROM incoming_webhooks WHERE id = $1', [
      accepted.body.id,
    ]);
    expect(row.rows[0]).toEqual({ status: 'succeeded', attempts_made: 1 });
    expect(received).toBe(1);
    await stack.worker.start(/worker running/);
  });
});
