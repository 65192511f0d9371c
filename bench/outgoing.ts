import { Receiver, type RecordedRequest } from '../test/harness/receiver';
import { measureEngineCeiling } from './engine-ceiling';
import { fmt, percentile, startEmbeddedStack, type EmbeddedStack } from './lib';

export interface OutgoingBenchOptions {
  /** (a) burst size. */
  events: number;
  /** Events posted at once by the bench client. */
  concurrency: number;
  /** (b) events and webhooks. */
  fanoutEvents: number;
  fanoutWebhooks: number;
  /** (c, d) steady rate and duration. */
  steadyRate: number;
  steadySeconds: number;
  /** (d) how long the slow webhook takes to answer, ms. */
  slowMs: number;
  /** (e) batching wait (s), maximum items, and timer bursts. */
  batchWait: number;
  batchMax: number;
  bursts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

const postEvent = (stack: EmbeddedStack, objectId: string) =>
  stack.call('POST', '/api/v1/events', {
    type: 'Ticket Changed',
    objectId,
    object: { fields: { summary: 'bench', status: { id: 1, display: 'New' } } },
  });

/** Posts events `prefix-0…count-1` with `concurrency` in flight; returns when each was posted (epoch ms). */
async function burst(stack: EmbeddedStack, prefix: string, count: number, concurrency: number) {
  const sentAt = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const objectId = `${prefix}-${next++}`;
        sentAt.set(objectId, Date.now());
        await postEvent(stack, objectId);
      }
    }),
  );
  return { sentAt, acceptSeconds: (performance.now() - started) / 1000 };
}

/** Posts `rate` events a second for `seconds`, on a clock (not waiting for answers). */
async function steady(stack: EmbeddedStack, prefix: string, rate: number, seconds: number) {
  const sentAt = new Map<string, number>();
  const posts: Array<Promise<unknown>> = [];
  const start = Date.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const objectId = `${prefix}-${i}`;
    sentAt.set(objectId, Date.now());
    posts.push(postEvent(stack, objectId));
  }
  await Promise.all(posts);
  return sentAt;
}

async function received(receiver: Receiver, path: string, items: number, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  const count = () => receiver.requests(path).reduce((n, r) => n + (Array.isArray(r.json) ? r.json.length : 1), 0);
  while (count() < items) {
    if (Date.now() > deadline) throw new Error(`${path}: only ${count()} of ${items} items arrived`);
    await sleep(100);
  }
  return receiver.requests(path);
}

/** Event→receiver latency of each first arrival, ascending. */
const latencies = (reqs: RecordedRequest[], sentAt: Map<string, number>) => {
  const first = new Map<string, number>();
  for (const r of reqs) if (!first.has(r.json.objectId)) first.set(r.json.objectId, r.receivedAt);
  return sorted([...first].map(([id, at]) => at - sentAt.get(id)!));
};

async function webhook(stack: EmbeddedStack, receiver: Receiver, path: string, extra: Record<string, unknown> = {}) {
  const w = (await stack.call('POST', '/api/v1/webhooks', {
    name: `bench ${path}`,
    url: receiver.url(path),
    events: [{ type: 'Ticket Changed' }],
    ...extra,
  })) as { id: string };
  return w.id;
}

async function remove(stack: EmbeddedStack, id: string) {
  // DELETE answers 204 without a body, which `call` would try to parse.
  await fetch(`${stack.apiUrl}/api/v1/webhooks/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${stack.apiKey}` },
  });
}

/**
 * Outgoing webhooks on the embedded stack against a local receiver: the engine's own
 * ceiling (trivial workflows/s on the same Temporal server), then (a) a burst to one
 * webhook, (b) fan-out, (c) steady load latency, (d) the same with a slow webhook beside
 * it, (e) batching: deliveries per 1,000 events and the timer flush's error.
 */
export async function benchOutgoing(o: OutgoingBenchOptions): Promise<void> {
  const receiver = await Receiver.start();
  const stack = await startEmbeddedStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    say(`outgoing webhooks benchmark: embedded stack, local receiver, ${o.concurrency} events posted at once`);
    const ceiling = await measureEngineCeiling({
      address: stack.temporalAddress,
      namespace: stack.temporalNamespace,
      concurrency: o.concurrency,
    });
    say(`  engine ceiling (trivial workflows/s, ${ceiling.concurrency} in flight): ${fmt(ceiling.workflowsPerSecond)}`);

    // (a) Burst to one unbatched webhook.
    const a = await webhook(stack, receiver, '/a');
    const sentA = await burst(stack, 'A', o.events, o.concurrency);
    const reqsA = await received(receiver, '/a', o.events);
    const firstA = Math.min(...sentA.sentAt.values());
    const lastA = Math.max(...reqsA.map((r) => r.receivedAt));
    const rateA = o.events / ((lastA - firstA) / 1000);
    const latA = latencies(reqsA, sentA.sentAt);
    say(`  (a) burst ${o.events} events → 1 webhook:`);
    say(
      `      events accepted/s ${fmt(o.events / sentA.acceptSeconds)}; deliveries/s ${fmt(rateA)} (${fmt(rateA / ceiling.workflowsPerSecond, 2)}× ceiling)`,
    );
    say(`      event→receiver p50/p99 ${fmt(percentile(latA, 50), 0)} / ${fmt(percentile(latA, 99), 0)} ms`);
    await remove(stack, a);

    // (b) Fan-out.
    const fan = await Promise.all(
      Array.from({ length: o.fanoutWebhooks }, (_, i) => webhook(stack, receiver, `/b${i}`)),
    );
    const sentB = await burst(stack, 'B', o.fanoutEvents, o.concurrency);
    const reqsB = (await Promise.all(fan.map((_, i) => received(receiver, `/b${i}`, o.fanoutEvents)))).flat();
    const firstB = Math.min(...sentB.sentAt.values());
    const rateB = reqsB.length / ((Math.max(...reqsB.map((r) => r.receivedAt)) - firstB) / 1000);
    say(
      `  (b) fan-out ${o.fanoutEvents} events → ${o.fanoutWebhooks} webhooks (${reqsB.length} deliveries): deliveries/s ${fmt(rateB)}`,
    );
    await Promise.all(fan.map((id) => remove(stack, id)));

    // (c) Steady load.
    const c = await webhook(stack, receiver, '/c');
    const sentC = await steady(stack, 'C', o.steadyRate, o.steadySeconds);
    const latC = latencies(await received(receiver, '/c', sentC.size), sentC);
    say(
      `  (c) steady ${o.steadyRate} events/s for ${o.steadySeconds} s → 1 webhook: p50/p99 ${fmt(percentile(latC, 50), 0)} / ${fmt(percentile(latC, 99), 0)} ms`,
    );
    await remove(stack, c);

    // (d) Isolation: the same load, with a webhook beside it that answers after `slowMs`.
    const slow = await webhook(stack, receiver, '/d-slow');
    receiver.setDefault('/d-slow', { status: 200, delayMs: o.slowMs });
    const healthy = await webhook(stack, receiver, '/d');
    const sentD = await steady(stack, 'D', o.steadyRate, o.steadySeconds);
    const latD = latencies(await received(receiver, '/d', sentD.size), sentD);
    const change = (x: number, base: number) => ((x - base) / base) * 100;
    const dP50 = percentile(latD, 50);
    const dP99 = percentile(latD, 99);
    say(
      `  (d) isolation, beside a webhook answering after ${o.slowMs / 1000} s: healthy p50/p99 ${fmt(dP50, 0)} / ${fmt(dP99, 0)} ms (${fmt(change(dP50, percentile(latC, 50)), 0)} % / ${fmt(change(dP99, percentile(latC, 99)), 0)} % against (c)); slow one answered ${receiver.requests('/d-slow').length}`,
    );
    await Promise.all([remove(stack, slow), remove(stack, healthy)]);
    receiver.setDefault('/d-slow', undefined);

    // (e) Batching: deliveries per 1,000 events, then paced bursts that only the timer can close.
    const e = await webhook(stack, receiver, '/e', {
      batching: { mode: 'any_event', waitSeconds: o.batchWait, maxItems: o.batchMax },
    });
    await burst(stack, 'E', o.events, o.concurrency);
    const batches = await received(receiver, '/e', o.events);
    const perThousand = (batches.length * 1000) / o.events;
    await stack.call('PATCH', `/api/v1/webhooks/${e}`, { url: receiver.url('/e-timer') });
    const errors: number[] = [];
    for (let b = 0; b < o.bursts; b++) {
      const started = Date.now();
      await burst(stack, `T${b}`, 5, 5);
      const reqs = await received(receiver, '/e-timer', (b + 1) * 5, (o.batchWait + 30) * 1000);
      errors.push(reqs[reqs.length - 1]!.receivedAt - (started + o.batchWait * 1000));
      await sleep(200);
    }
    const flush = sorted(errors);
    say(
      `  (e) batching (any event, wait ${o.batchWait} s, max ${o.batchMax}): deliveries per 1,000 events ${fmt(perThousand)}; timer flush error p50/p99 +${fmt(percentile(flush, 50), 0)} / +${fmt(percentile(flush, 99), 0)} ms (${o.bursts} bursts, from the first post)`,
    );

    const json = {
      engine_ceiling_workflows_per_s: Number(ceiling.workflowsPerSecond.toFixed(1)),
      a_events: o.events,
      a_events_accepted_per_s: Number((o.events / sentA.acceptSeconds).toFixed(1)),
      a_deliveries_per_s: Number(rateA.toFixed(1)),
      a_ratio_to_ceiling: Number((rateA / ceiling.workflowsPerSecond).toFixed(2)),
      a_p50_ms: percentile(latA, 50),
      a_p99_ms: percentile(latA, 99),
      b_deliveries: reqsB.length,
      b_deliveries_per_s: Number(rateB.toFixed(1)),
      c_p50_ms: percentile(latC, 50),
      c_p99_ms: percentile(latC, 99),
      d_p50_ms: dP50,
      d_p99_ms: dP99,
      d_p50_change_pct: Number(change(dP50, percentile(latC, 50)).toFixed(1)),
      d_p99_change_pct: Number(change(dP99, percentile(latC, 99)).toFixed(1)),
      e_deliveries_per_1000: Number(perThousand.toFixed(1)),
      e_flush_error_p50_ms: percentile(flush, 50),
      e_flush_error_p99_ms: percentile(flush, 99),
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await stack.stop();
    await receiver.close();
  }
}
