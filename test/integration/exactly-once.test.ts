import { randomUUID } from 'node:crypto';
import { insertIncomingWebhook } from '../../src/incoming/db/incoming-webhooks';
import { insertIntakeJobs } from '../../src/platform/intake/jobs';
import { inboundStartJob } from '../../src/incoming/webhook-starter';
import { workflowIds } from '../../src/incoming/workflow-contract';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { idempotencyKeyFor } from '../../src/platform/effects/activity-keys';
import { ProductProcess } from '../harness/processes';
import { Receiver } from '../harness/receiver';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';

// Finished work is never redone: a worker killed right after an attempt commits (its completion
// never reaches Temporal) is re-run by Temporal; the re-run returns the stored outcome. A worker
// killed between a forward's answer and its record re-sends it with the same Idempotency-Key.

let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await Receiver.start();
  stack = await startStack({ TEST_CRASH_AFTER_COMMIT: 'true', INBOUND_ACTIVITY_TIMEOUT_SECONDS: '3' });
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

type Attempt = { attempt: number; execution: number; rerun: boolean; status: string; log: { message: string }[] };

async function sendSigned(forwardPath: string, body: string) {
  const created = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: `exactly once ${forwardPath}`,
    processingMethod: 'service_immediate',
    settings: { forwardUrl: receiver.url(forwardPath) },
  });
  expect(created.status).toBe(201);
  const accepted = await fetchJson(`${stack.apiUrl}/hooks/generic/${created.body.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signStandardWebhook(body, created.body.signingSecret),
    },
    body,
  });
  expect(accepted.status).toBe(202);
  return accepted.body.id as string;
}

test('a re-run after a lost completion neither repeats the forward nor loses the attempt record', async () => {
  const body = JSON.stringify({ type: 'Invoice created', id: 'INV-1' });
  const webhookId = await sendSigned('/once', body);

  // The worker kills itself right after the attempt commits; a fresh worker picks up the re-run.
  await eventually(async () => stack.worker.child?.signalCode === 'SIGKILL', 60_000);
  expect(stack.worker.output).toMatch(/test hook: killing the worker after commit/);
  const replacement = new ProductProcess('src/worker.ts', { ...stack.env, TEST_CRASH_AFTER_COMMIT: 'false' });
  await replacement.start(/worker running/);
  try {
    const detail = await eventually(async () => {
      const res = await stack.request('GET', `/api/v1/incoming-webhooks/${webhookId}`);
      return res.body.attempts?.length === 2 ? res.body : undefined;
    }, 60_000);
    expect(detail.status).toBe('succeeded');
    expect(detail.attempts.map((a: Attempt) => [a.attempt, a.execution, a.rerun, a.status])).toEqual([
      [1, 1, false, 'succeeded'],
      [1, 2, true, 'succeeded'],
    ]);
    expect(detail.attempts[1].log.map((l: { message: string }) => l.message).join('\n')).toMatch(/nothing repeated/);
    const result = await stack.temporal.workflow.getHandle(detail.workflowId).result();
    expect(result).toEqual({ status: 'succeeded', attempts: 1 });
    expect(receiver.requests('/once')).toHaveLength(1);
  } finally {
    await replacement.stop();
  }
});

test('poison data (NUL in a key) ends failed after bounded attempts, the forward sent once', async () => {
  // The crash hook is for the first test's worker only; this one runs normally.
  const worker = new ProductProcess('src/worker.ts', { ...stack.env, TEST_CRASH_AFTER_COMMIT: 'false' });
  await worker.start(/worker running/);
  try {
    const body = '{"type":"Invoice created","id":"INV-2","bad\\u0000key":1}';
    // Ingress refuses such a body now (the input boundary); data stored before that boundary
    // existed still reaches processing, so it is put in as intake would have stored it.
    const integration = await stack.request('POST', '/api/v1/integrations', {
      provider: 'generic',
      name: 'exactly once /poison',
      processingMethod: 'service_immediate',
      settings: { forwardUrl: receiver.url('/poison') },
    });
    const refused = await fetchJson(`${stack.apiUrl}/hooks/generic/${integration.body.id}`, {
      method: 'POST',
      headers: { ...signStandardWebhook(body, integration.body.signingSecret) },
      body,
    });
    expect([refused.status, refused.body.error.code]).toEqual([400, 'invalid_input']);
    const { row } = await insertIncomingWebhook(stack.db, {
      id: randomUUID(),
      integration_id: integration.body.id,
      provider: 'generic',
      delivery_key: 'poison-1',
      event_type: 'Invoice created',
      entity_type: null,
      entity_id: 'INV-2',
      processing_method: 'service_immediate',
      attempts_allowed: 3,
      workflow_id: workflowIds.inbound(integration.body.id, 'poison-1'),
      payload: body,
    });
    const settings = {
      activityTimeoutSeconds: 5,
      retryInitialSeconds: 1,
      batchWaitSeconds: 1,
      batchMaxItems: 10,
      batchIdleSeconds: 10,
      batchMaxFlushesPerRun: 10,
    };
    await insertIntakeJobs(stack.db, [
      inboundStartJob(settings, { id: integration.body.id, provider: 'generic' }, row),
    ]);
    const webhookId = row.id;
    const detail = await eventually(async () => {
      const res = await stack.request('GET', `/api/v1/incoming-webhooks/${webhookId}`);
      return res.body.status === 'failed' ? res.body : undefined;
    }, 60_000);
    expect(detail.error).toMatch(/cannot be stored.*22P05/);
    const result = await stack.temporal.workflow.getHandle(detail.workflowId).result();
    // Three attempts allowed, but bad data ends it at the first: no retry could succeed.
    expect(result).toEqual({ status: 'failed', attempts: 1 });
    expect(receiver.requests('/poison')).toHaveLength(1);
  } finally {
    await worker.stop();
  }
});

test('a forward whose answer was lost is re-sent with the same key, so a deduplicating receiver acts once', async () => {
  // Only the worker that dies after the forward's answer runs (the stack's own crashes after commit).
  await stack.worker.stop('SIGKILL');
  const crashing = new ProductProcess('src/worker.ts', { ...stack.env, TEST_CRASH_AFTER_COMMIT: 'forward' });
  await crashing.start(/worker running/);
  const replacement = new ProductProcess('src/worker.ts', { ...stack.env, TEST_CRASH_AFTER_COMMIT: 'false' });
  try {
    const webhookId = await sendSigned('/lost-answer', JSON.stringify({ type: 'Invoice created', id: 'INV-3' }));
    await eventually(async () => crashing.child?.signalCode === 'SIGKILL', 60_000);
    expect(crashing.output).toMatch(/killing the worker after commit \(forward of .*answered but not recorded\)/);
    // The receiver got it and answered; Switchyard never recorded that answer.
    expect(receiver.requests('/lost-answer').map((r) => r.answeredWith)).toEqual([200]);

    await replacement.start(/worker running/);
    const detail = await eventually(async () => {
      const res = await stack.request('GET', `/api/v1/incoming-webhooks/${webhookId}`);
      return res.body.status === 'succeeded' ? res.body : undefined;
    }, 60_000);
    // Both executions are in the attempt log: the killed one (with what it did before the call)
    // and the re-run, which says it re-sent after an unknown outcome.
    expect(detail.attempts.map((a: Attempt) => [a.attempt, a.execution, a.rerun, a.status])).toEqual([
      [1, 1, false, 'abandoned'],
      [1, 2, true, 'succeeded'],
    ]);
    const logOf = (a: Attempt) => a.log.map((l) => l.message).join('\n');
    expect(logOf(detail.attempts[0])).toMatch(
      /forward: POST .*\/lost-answer with Idempotency-Key .* \(recorded before sending\)/,
    );
    expect(logOf(detail.attempts[1])).toMatch(/re-sent after an unknown outcome/);

    // Two requests, one key, the one derived from the workflow and activity: counted once.
    const key = idempotencyKeyFor(`outbound:${detail.workflowId}/processIncomingWebhook#forward`);
    const requests = receiver.requests('/lost-answer');
    expect(requests.map((r) => r.headers['idempotency-key'])).toEqual([key, key]);
    const acted = new Set(requests.map((r) => r.headers['idempotency-key']));
    expect(acted.size).toBe(1);
    const { rows } = await stack.db.query(
      'SELECT state, delivered, sends, resends_after_unknown FROM activity_effects WHERE key = $1',
      [`outbound:${detail.workflowId}/processIncomingWebhook#forward`],
    );
    expect(rows).toEqual([{ state: 'completed', delivered: true, sends: 2, resends_after_unknown: 1 }]);
    const result = await stack.temporal.workflow.getHandle(detail.workflowId).result();
    expect(result).toEqual({ status: 'succeeded', attempts: 1 });
  } finally {
    await crashing.stop();
    await replacement.stop();
  }
});
