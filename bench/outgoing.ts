import { Receiver } from '../test/harness/receiver';
import { fmt, percentile, startEmbeddedStack, type EmbeddedStack } from './lib';

export interface OutgoingBenchOptions {
  events: number;
  concurrency: number;
  /** Batch wait of the batching phase, seconds. */
  batchWait: number;
  batchMax: number;
  /** Paced bursts used to measure the batch timer's accuracy. */
  bursts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Posts `count` events with `concurrency` in flight; returns when each was sent (epoch ms) by object id. */
async function sendEvents(stack: EmbeddedStack, prefix: string, count: number, concurrency: number) {
  const sentAt = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const objectId = `${prefix}-${next++}`;
        sentAt.set(objectId, Date.now());
        await stack.call('POST', '/api/v1/events', {
          type: 'Ticket Changed',
          objectId,
          object: { fields: { summary: 'bench', status: { id: 1, display: 'New' } } },
        });
      }
    }),
  );
  return { sentAt, seconds: (performance.now() - started) / 1000 };
}

async function itemsReceived(receiver: Receiver, path: string, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const items = () => receiver.requests(path).reduce((n, r) => n + (Array.isArray(r.json) ? r.json.length : 1), 0);
  while (items() < count) {
    if (Date.now() > deadline) throw new Error(`only ${items()} of ${count} items reached the receiver`);
    await sleep(100);
  }
}

/**
 * Outgoing webhooks on the embedded stack against a local receiver: events accepted per
 * second, deliveries completed per second and event→receiver latency (unbatched); then, for
 * batching, deliveries per 1,000 events and how far the timer flush lands from the wait.
 */
export async function benchOutgoing(o: OutgoingBenchOptions): Promise<void> {
  const receiver = await Receiver.start();
  const stack = await startEmbeddedStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
  try {
    const hook = await stack.call('POST', '/api/v1/webhooks', {
      name: 'bench',
      url: receiver.url('/single'),
      events: [{ type: 'Ticket Changed' }],
    });
    const single = await sendEvents(stack, 'S', o.events, o.concurrency);
    await itemsReceived(receiver, '/single', o.events, 300_000);
    const reqs = receiver.requests('/single');
    const latencies = reqs.map((r) => r.receivedAt - single.sentAt.get(r.json.objectId)!).sort((a, b) => a - b);
    const firstSent = Math.min(...single.sentAt.values());
    const lastReceived = Math.max(...reqs.map((r) => r.receivedAt));
    // DELETE answers 204 without a body, which `call` would try to parse.
    await fetch(`${stack.apiUrl}/api/v1/webhooks/${hook.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });

    const batchHook = await stack.call('POST', '/api/v1/webhooks', {
      name: 'bench batch',
      url: receiver.url('/batch'),
      events: [{ type: 'Ticket Changed' }],
      batching: { mode: 'any_event', waitSeconds: o.batchWait, maxItems: o.batchMax },
    });
    await sendEvents(stack, 'B', o.events, o.concurrency);
    await itemsReceived(receiver, '/batch', o.events, 300_000);
    const batches = receiver.requests('/batch');

    // Paced bursts: each opens a window that only the timer can close.
    await stack.call('PATCH', `/api/v1/webhooks/${batchHook.id}`, { url: receiver.url('/timer') });
    const burstStarts: number[] = [];
    for (let b = 0; b < o.bursts; b++) {
      burstStarts.push(Date.now());
      await sendEvents(stack, `T${b}`, 5, 5);
      await itemsReceived(receiver, '/timer', (b + 1) * 5, (o.batchWait + 30) * 1000);
    }
    const flushErrors = receiver
      .requests('/timer')
      .map((r, i) => r.receivedAt - (burstStarts[i]! + o.batchWait * 1000))
      .sort((a, b) => a - b);

    const lines = [
      `outgoing webhooks benchmark: ${o.events} events, ${o.concurrency} in flight, embedded stack, local receiver`,
      `  events accepted/s:              ${fmt(o.events / single.seconds)}`,
      `  deliveries completed/s:         ${fmt(o.events / ((lastReceived - firstSent) / 1000))}`,
      `  event→receiver p50/p99:         ${fmt(percentile(latencies, 50), 0)} / ${fmt(percentile(latencies, 99), 0)} ms (unbatched)`,
      `  batching (any event, wait ${o.batchWait} s, max ${o.batchMax}):`,
      `    deliveries per 1,000 events:  ${fmt((batches.length * 1000) / o.events)}`,
      `    timer flush vs wait p50/p99:  +${fmt(percentile(flushErrors, 50), 0)} / +${fmt(percentile(flushErrors, 99), 0)} ms over ${o.batchWait} s (${o.bursts} bursts; includes dispatch and HTTP)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stack.stop();
    await receiver.close();
  }
}
