import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';

let stack: Stack;
let receiver: Server;
let receiverUrl: string;
const requests: Array<{ body: string }> = [];
const parked: ServerResponse[] = [];

beforeAll(async () => {
  stack = await startStack({ INBOUND_ACTIVITY_TIMEOUT_SECONDS: '4' });
  // The first relay request is parked (never answered) so the worker dies mid-activity.
  receiver = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ body });
      if (requests.length === 1) parked.push(res);
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/relay`;
});

afterAll(async () => {
  for (const res of parked) res.destroy();
  await new Promise<void>((r) => receiver.close(() => r()));
  await stack?.stop();
});

test('a worker killed mid-activity and restarted completes the workflow without spending an attempt', async () => {
  const created = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'relay',
    processingMethod: 'default',
    settings: { forwardUrl: receiverUrl },
  });
  expect(created.status).toBe(201);
  const body = JSON.stringify({ type: 'Invoice created', id: 'INV-7' });
  const accepted = await fetchJson(`${stack.apiUrl}/hooks/generic/${created.body.id}`, {
    method: 'POST',
    headers: { ...signStandardWebhook(body, created.body.signingSecret) },
    body,
  });
  expect(accepted.status).toBe(202);

  await eventually(async () => requests.length === 1);
  expect(await stack.worker.stop('SIGKILL')).toBeNull();
  await stack.worker.start(/worker running/);

  const detail = await eventually(async () => {
    const res = await stack.request('GET', `/api/v1/incoming-webhooks/${accepted.body.id}`);
    return res.body.status === 'succeeded' ? res.body : undefined;
  }, 60_000);
  // The "default" method allows one attempt: the crash must not have consumed it. Each
  // execution of that attempt has its own record; the second is marked as a re-run.
  expect(
    detail.attempts.map((a: { attempt: number; execution: number; rerun: boolean; status: string }) => [
      a.attempt,
      a.execution,
      a.rerun,
      a.status,
    ]),
  ).toEqual([
    [1, 1, false, 'abandoned'],
    [1, 2, true, 'succeeded'],
  ]);
  expect(detail.attempts[1].log.map((l: { message: string }) => l.message).join('\n')).toMatch(
    /re-run \(execution 2\)/,
  );
  expect(requests).toHaveLength(2);
  expect(requests[1]!.body).toBe(body);
  const result = await stack.temporal.workflow.getHandle(detail.workflowId).result();
  expect(result).toEqual({ status: 'succeeded', attempts: 1 });
});
