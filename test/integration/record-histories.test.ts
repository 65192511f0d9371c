import { randomUUID } from 'node:crypto';
import type { XeroEmulator } from '../emulators/xero';
import { buildXeroPayload } from '../emulators/webhook-sender';
import { Receiver } from '../harness/receiver';
import { eventually } from '../harness/stack';
import { recordHistory, type Family } from './histories';
import { allIn, createXeroIntegration, postSignedGeneric, sendXero, startXero, xeroConsent } from './incoming-helpers';
import {
  AGENT,
  createMailbox,
  HELPDESK,
  processed,
  signIn,
  startMailStack,
  subscribe,
  SUPPORT,
  type MailStack,
} from './mailbox-helpers';
import { createWebhook, emit, ticketEvent } from './outgoing-helpers';

/**
 * Records the histories workflow-replay.test.ts replays: real runs of every workflow family on
 * the test stack, some taken mid-flight (a lane waiting for its next wake, a mailbox waiting on
 * its renewal timer, a batch waiting on its window timer). Runs only under `npm run
 * record-histories` (RECORD_HISTORIES=1), which overwrites test/fixtures/histories/.
 */
const recording = process.env['RECORD_HISTORIES'] === '1';
const describeRecording = recording ? describe : describe.skip;

let m: MailStack;
let receiver: Receiver;
let xero: XeroEmulator;

describeRecording('recording workflow histories', () => {
  beforeAll(async () => {
    receiver = await Receiver.start();
    ({ xero } = await startXero(randomUUID()));
    m = await startMailStack({
      env: {
        LANE_IDLE_SECONDS: '2',
        INBOUND_BATCH_IDLE_SECONDS: '2',
        RATE_LIMIT_REQUESTS: '0',
        MAILBOX_SCAN_MIN_INTERVAL_SECONDS: '1',
      },
    });
    m.emulator.setAuthorizeBehaviour({ outcome: 'approve', user: AGENT });
  });
  afterAll(async () => {
    await m?.stop();
    await xero?.stop();
    await receiver?.close();
  });

  const record = (family: Family, name: string, workflowId: string, runId?: string) =>
    recordHistory(m.stack.temporal, family, name, workflowId, runId);

  /** The first run matching `query` on this stack's task queue (newest first). */
  async function findRun(query: string, timeoutMs = 30_000): Promise<{ workflowId: string; runId: string }> {
    return eventually(async () => {
      for await (const wf of m.stack.temporal.workflow.list({
        query: `TaskQueue = '${m.stack.taskQueue}' AND ${query}`,
      })) {
        return { workflowId: wf.workflowId, runId: wf.runId };
      }
      return undefined;
    }, timeoutMs);
  }

  /** Waits until the run has a timer started and neither fired nor cancelled: it is waiting on it. */
  async function waitingOnTimer(workflowId: string, runId?: string): Promise<void> {
    let seen: string[] = [];
    try {
      await eventually(async () => {
        const events = (await m.stack.temporal.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
        seen = events.map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? '?');
        const open = new Set<string>();
        for (const e of events) {
          if (e.timerStartedEventAttributes) open.add(e.timerStartedEventAttributes.timerId!);
          if (e.timerFiredEventAttributes) open.delete(e.timerFiredEventAttributes.timerId!);
          if (e.timerCanceledEventAttributes) open.delete(e.timerCanceledEventAttributes.timerId!);
        }
        return open.size > 0;
      }, 30_000);
    } catch (err) {
      throw new Error(`${workflowId} is not waiting on a timer; its events: ${seen.join(', ')}`, { cause: err });
    }
  }

  test('webhook lanes: one that delivered and went idle, one waiting for its next retry', async () => {
    const ok = await createWebhook(m.stack, receiver, '/lane-ok');
    await emit(m.stack, ticketEvent());
    await emit(m.stack, ticketEvent());
    await receiver.waitFor('/lane-ok', 2);
    const done = await findRun(`WorkflowId = 'webhook:${ok.id}' AND ExecutionStatus = 'Completed'`);
    await record('webhook-lane', 'delivered-then-idle', done.workflowId, done.runId);
    await m.stack.request('DELETE', `/api/v1/webhooks/${ok.id}`);

    receiver.setDefault('/lane-failing', { status: 503 });
    const failing = await createWebhook(m.stack, receiver, '/lane-failing');
    await emit(m.stack, ticketEvent());
    await receiver.waitFor('/lane-failing', 1);
    await waitingOnTimer(`webhook:${failing.id}`);
    await record('webhook-lane', 'mid-flight-waiting-for-retry', `webhook:${failing.id}`);
    await m.stack.request('DELETE', `/api/v1/webhooks/${failing.id}`);
  });

  test('an incoming webhook from a generic sender', async () => {
    const created = await m.stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'Recorder' });
    expect(created.status).toBe(201);
    const body = JSON.stringify({ type: 'Invoice updated', objectId: 'INV-1', data: { total: 1 } });
    const res = await postSignedGeneric(m.stack.apiUrl, created.body, body);
    expect(res.status).toBe(202);
    const run = await findRun(`WorkflowType = 'inboundWebhook' AND ExecutionStatus = 'Completed'`);
    await record('incoming-webhook', 'processed', run.workflowId, run.runId);
  });

  test('inbound batches: one waiting on its window timer, one that processed and went idle', async () => {
    const batch = async (batchWaitSeconds: number) => {
      const tenantId = randomUUID();
      xero.addTenant(tenantId);
      const integration = await createXeroIntegration(m.stack, xero, await xeroConsent(xero), {
        processingMethod: 'service_delayed',
        settings: { batchWaitSeconds },
      });
      const invoice = xero.upsertInvoice(tenantId, {});
      const sent = await sendXero(
        m.stack,
        integration.id,
        buildXeroPayload([{ resourceId: invoice.InvoiceID, tenantId, eventCategory: 'INVOICE' }]),
      );
      return { integration, ids: sent.ids };
    };
    const waiting = await batch(600);
    const open = await findRun(`WorkflowType = 'inboundBatch' AND ExecutionStatus = 'Running'`);
    await waitingOnTimer(open.workflowId, open.runId);
    await record('inbound-batch', 'mid-flight-waiting-on-window', open.workflowId, open.runId);

    const quick = await batch(1);
    await allIn(m.stack, quick.ids, ['succeeded']);
    const done = await findRun(`WorkflowType = 'inboundBatch' AND ExecutionStatus = 'Completed'`);
    await record('inbound-batch', 'processed-then-idle', done.workflowId, done.runId);
    await m.stack.request('DELETE', `/api/v1/integrations/${waiting.integration.id}`);
  });

  test('mailboxes: one waiting on its renewal timer, an email to a ticket, a reply, a scan', async () => {
    const mailbox = await createMailbox(m);
    await createMailbox(m, { name: 'Helpdesk (outgoing)', emailAddress: HELPDESK, outgoingDefault: true });
    await subscribe(m, mailbox.id);

    const sent = m.emulator.deliverMessage(SUPPORT, {
      from: 'Alice <alice@customer.test>',
      subject: 'Printer',
      body: 'On fire',
    });
    const entry = await processed(m, mailbox.id, sent.internetMessageId);
    expect(entry.status).toBe('ticket_created');
    await m.stack.temporal.workflow.getHandle(entry.workflowId).result();
    await record('email-to-ticket', 'ticket-created', entry.workflowId);

    const reply = await m.stack.request('POST', `/api/v1/tickets/${entry.ticketId}/reply`, {
      body: 'Try turning it off',
    });
    expect(reply.status).toBe(202);
    // Started through the intake outbox: it exists a moment after the 202.
    await eventually(async () => (await m.stack.temporal.workflow.getHandle(reply.body.workflowId).result(), true));
    await record('email-to-ticket', 'ticket-reply', reply.body.workflowId);

    await waitingOnTimer(`mailbox:${mailbox.id}`);
    await record('mailbox', 'mid-flight-waiting-on-renewal', `mailbox:${mailbox.id}`);

    const scanned = await createMailbox(m, {
      name: 'Agent (scan)',
      method: 'scan',
      emailAddress: undefined,
      scanIntervalSeconds: 2,
    });
    expect((await signIn(m, scanned.id)).status).toBe(200);
    const scan = await findRun(`WorkflowType = 'mailboxScan' AND ExecutionStatus = 'Completed'`, 60_000);
    await record('mailbox', 'scan', scan.workflowId, scan.runId);
  });

  test('a retention run', async () => {
    const workflowId = `retention-record-${randomUUID()}`;
    await m.stack.temporal.workflow.execute('retentionWorkflow', {
      taskQueue: m.stack.taskQueue,
      workflowId,
      args: [{ dryRun: true }],
    });
    await record('retention', 'dry-run', workflowId);
  });
});

if (!recording) test.skip('recording workflow histories (RECORD_HISTORIES=1)', () => undefined);
