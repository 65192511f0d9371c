import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { TRACING_WORKFLOW_INTERCEPTOR_MODULES } from '../../src/platform/temporal/tracing';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { OtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver';
import { Receiver } from '../harness/receiver';
import { eventually, fetchJson } from '../harness/stack';
import { createMailbox, processed, startMailStack, subscribe, SUPPORT, type MailStack } from './mailbox-helpers';
import { createWebhook, ticketEvent } from './outgoing-helpers';

/**
 * Tracing switched on by the standard OTEL_* settings: the api and worker processes export to an
 * OTLP/HTTP receiver in this process, and one trace must cover each path end to end, from the
 * request that brought the work to the HTTP call that finished it.
 */
let m: MailStack;
let otlp: OtlpReceiver;
let receiver: Receiver;
let bundleDir: string;

beforeAll(async () => {
  otlp = await OtlpReceiver.start();
  receiver = await Receiver.start();
  // A prebuilt bundle carries workflow spans only when built with the tracing interceptors.
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-trace-bundle-'));
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    workflowInterceptorModules: TRACING_WORKFLOW_INTERCEPTOR_MODULES,
  });
  fs.writeFileSync(path.join(bundleDir, 'workflows.js'), code);
  m = await startMailStack({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
      OTEL_SERVICE_NAME: 'switchyard-test',
      WORKFLOW_BUNDLE_PATH: path.join(bundleDir, 'workflows.js'),
    },
  });
}, 240_000);
afterAll(async () => {
  await m?.stop();
  await receiver?.close();
  await otlp?.close();
  fs.rmSync(bundleDir, { recursive: true, force: true });
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** A caller's own trace: its span id is the parent of our server span. */
const callerTrace = () => {
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
};

const SERVER = 2;
const CLIENT = 3;

/** Waits until the trace holds a span matching each predicate; returns the trace. */
async function traceWith(traceId: string, wanted: Record<string, (s: ReceivedSpan) => boolean>) {
  return eventually(async () => {
    const spans = otlp.trace(traceId);
    const missing = Object.entries(wanted).filter(([, p]) => !spans.some(p));
    if (missing.length > 0) {
      const present = spans.map((x) => `${x.name}/${x.kind}/${x.role}`).join(', ');
      throw new Error(`trace ${traceId} lacks ${missing.map(([k]) => k).join(', ')}; has ${present}`);
    }
    return spans;
  }, 30_000);
}

/** Every span's parent is in the trace, but for the root (whose parent is `rootParent`, if any). */
function expectConnected(
  spans: ReceivedSpan[],
  rootParent = '',
  stillOpen: (s: ReceivedSpan) => boolean = () => false,
) {
  const ids = new Set(spans.map((s) => s.spanId));
  const orphans = spans.filter((s) => !ids.has(s.parentSpanId) && s.parentSpanId !== rootParent && !stillOpen(s));
  expect(orphans.map((s) => `${s.name} (parent ${s.parentSpanId || 'none'})`)).toEqual([]);
}

const named = (prefix: string) => (s: ReceivedSpan) => s.name.startsWith(prefix);

test('an incoming webhook: the caller’s trace runs through intake, the starter, the workflow and the forward', async () => {
  const created = await m.stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'traced source',
    processingMethod: 'service_immediate',
    settings: { forwardUrl: receiver.url('/forward') },
  });
  expect(created.status).toBe(201);
  const body = JSON.stringify({ type: 'Invoice updated', objectId: 'INV-7', data: { total: 1 } });
  const caller = callerTrace();
  const accepted = await fetchJson(`${m.stack.apiUrl}/hooks/generic/${created.body.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signStandardWebhook(body, created.body.signingSecret),
      traceparent: caller.traceparent,
    },
    body,
  });
  expect(accepted.status).toBe(202);

  const [forwarded] = await receiver.waitFor('/forward', 1);
  expect(forwarded!.headers['traceparent']).toMatch(new RegExp(`^00-${caller.traceId}-[0-9a-f]{16}-01$`));

  const spans = await traceWith(caller.traceId, {
    ingress: (s) => s.kind === SERVER && s.name === 'POST /hooks/generic/:integrationId' && s.role === 'api',
    commit: named('intake.commit'),
    starter: named('intake.start inbound.start'),
    start: named('StartWorkflow:'),
    workflow: named('RunWorkflow:'),
    activity: named('RunActivity:'),
    forward: (s) => s.kind === CLIENT && s.attributes['url.path'] === '/forward' && s.role === 'worker',
  });
  expectConnected(spans, caller.spanId);
  // The forward's client span is the parent the receiver was told about.
  const forward = spans.find((s) => s.kind === CLIENT && s.attributes['url.path'] === '/forward')!;
  expect(forwarded!.headers['traceparent']).toBe(`00-${caller.traceId}-${forward.spanId}-01`);
  // Log lines written while the trace was active carry its id.
  expect(m.stack.worker.output).toContain(`"trace_id":"${caller.traceId}"`);
  process.stdout.write(`\nincoming webhook trace ${caller.traceId}:\n${otlp.dump(caller.traceId)}\n`);
});

test('an outgoing event: each delivery attempt joins its own event’s trace, though one lane sends them all', async () => {
  const webhook = await createWebhook(m.stack, receiver, '/out');
  const first = callerTrace();
  const second = callerTrace();
  for (const caller of [first, second]) {
    const res = await m.stack.request('POST', '/api/v1/events', ticketEvent(), { traceparent: caller.traceparent });
    expect(res.status).toBe(202);
  }
  const sent = await receiver.waitFor('/out', 2);
  const sentTraces = sent.map((r) => r.headers['traceparent']!.split('-')[1]);
  expect(new Set(sentTraces)).toEqual(new Set([first.traceId, second.traceId]));

  const spans = await traceWith(first.traceId, {
    ingress: (s) => s.kind === SERVER && s.name === 'POST /api/v1/events',
    commit: named('event.commit'),
    starter: named('intake.start lane.wake'),
    start: named('SignalWithStartWorkflow:'),
    // The lane outlives the event (its RunWorkflow span ends when it does); the wake reaches it.
    workflow: (s) => s.role === 'worker' && /^(RunWorkflow|HandleSignal):/.test(s.name),
    round: named('RunActivity:runLane'),
    attempt: named('delivery.attempt'),
    send: (s) => s.kind === CLIENT && s.attributes['url.path'] === '/out',
  });
  // The lane's RunWorkflow span, parent of its rounds, is exported when the lane ends: not yet.
  expectConnected(spans, first.spanId, named('StartActivity:runLane'));

  for (const caller of [first, second]) {
    const trace = await traceWith(caller.traceId, {
      attempt: (s) => s.name === 'delivery.attempt' && s.attributes['switchyard.webhook_id'] === webhook.id,
      send: (s) => s.kind === CLIENT && s.attributes['url.path'] === '/out',
    });
    const attempt = trace.find(named('delivery.attempt'))!;
    // Parented in the event's trace, linked to the lane round that sent it.
    expect(trace.map((s) => s.spanId)).toContain(attempt.parentSpanId);
    expect(attempt.links).toHaveLength(1);
    const round = otlp.spans.find((s) => s.spanId === attempt.links[0]!.spanId);
    expect(round?.name).toBe('RunActivity:runLane');
  }
  process.stdout.write(`\noutgoing event trace ${first.traceId}:\n${otlp.dump(first.traceId)}\n`);
});

test('an email: the Graph notification’s trace covers the email-to-ticket workflow and its Graph calls', async () => {
  const mailbox = await createMailbox(m);
  await subscribe(m, mailbox.id);
  const sent = m.emulator.deliverMessage(SUPPORT, {
    from: 'Alice <alice@customer.test>',
    subject: 'Traced printer',
    body: 'It is on fire',
    uniqueBody: 'It is on fire',
  });
  await processed(m, mailbox.id, sent.internetMessageId);

  const start = await eventually(async () => otlp.spans.find(named('StartWorkflow:emailToTicket')), 30_000);
  const spans = await traceWith(start.traceId, {
    ingress: (s) => s.kind === SERVER && /^POST .*\/notifications$/.test(s.name) && s.role === 'api',
    commit: named('intake.commit'),
    starter: named('intake.start'),
    workflow: named('RunWorkflow:emailToTicket'),
    activity: named('RunActivity:'),
    graph: (s) => s.kind === CLIENT && s.role === 'worker',
  });
  expectConnected(spans);
  process.stdout.write(`\nemail trace ${start.traceId}:\n${otlp.dump(start.traceId)}\n`);
});
