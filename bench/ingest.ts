import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import express from 'express';
import pg from 'pg';
import { signStandardWebhook } from '../test/emulators/webhook-sender';
import { ROOT } from '../test/harness/paths';
import { Receiver } from '../test/harness/receiver';
import { measureEngineCeiling } from './engine-ceiling';
import { fmt, percentile, startEmbeddedStack, type EmbeddedStack } from './lib';
import { cpuSince, cpuSnapshot, type CpuSplit } from './process-cpu';
import { allArrived, idsIn, tally } from './tally';

interface LoadResult {
  sent: number;
  accepted: number;
  seconds: number;
  /** Ack latencies of accepted requests, ms, ascending. */
  latencies: number[];
  errors: number;
  /** What each error was: an HTTP status, or the client's error code. */
  errorKinds: Record<string, number>;
  /** The ids of the accepted requests (open loop, when the body names one). */
  acceptedIds: string[];
}

const countKind = (kinds: Record<string, number>, kind: string) => {
  kinds[kind] = (kinds[kind] ?? 0) + 1;
};

/** A request to send; `id` is the payload's id, for counting it at the receiver. */
type Body = () => { body: string; headers: Record<string, string>; id?: string };

/** Closed loop: `connections` requests in flight, each sent when the last answered. */
async function closedLoop(
  url: string,
  requests: number,
  connections: number,
  body: Body,
  okStatus: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  // autocannon resolves on its one-second stats tick after the last answer, which rounded every
  // round's duration up to whole seconds (a 2.1 s round counted as 3 s): the round ends at its
  // last answer instead.
  let lastAnswer = started;
  const instance = autocannon({
    url,
    connections,
    amount: requests,
    requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, ...body() }) }],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  void instance.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
    lastAnswer = performance.now();
    if (status === okStatus) latencies.push(ms);
    else {
      errors++;
      countKind(errorKinds, `HTTP ${status}`);
    }
  });
  const result = await instance;
  errors += result.errors + result.timeouts;
  if (result.errors > 0) countKind(errorKinds, `${result.errors} connection errors`);
  if (result.timeouts > 0) countKind(errorKinds, `${result.timeouts} timeouts`);
  return {
    sent: requests,
    accepted: latencies.length,
    seconds: (lastAnswer - started) / 1000,
    latencies: latencies.sort((a, b) => a - b),
    errors,
    errorKinds,
    acceptedIds: [],
  };
}

/** Open loop: a request every 1/rate s for `seconds`, whatever the answers (as providers send). */
async function openLoop(url: string, rate: number, seconds: number, body: Body, okStatus: number): Promise<LoadResult> {
  // Idle sockets are closed after 4 s, before the server's 5 s keep-alive timeout, as a
  // well-behaved client does: otherwise a request can race the server closing its socket.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512, timeout: 4000 });
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  const inFlight: Array<Promise<void>> = [];
  const acceptedIds: string[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const { body: payload, headers, id } = body();
      const t0 = performance.now();
      const req = http.request(url, { method: 'POST', agent, headers, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === okStatus) {
            latencies.push(performance.now() - t0);
            if (id !== undefined) acceptedIds.push(id);
          } else {
            errors++;
            countKind(errorKinds, `HTTP ${res.statusCode}`);
          }
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        errors++;
        countKind(errorKinds, err.code ?? err.message);
        resolve();
      });
      req.end(payload);
    });
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(one());
  }
  await Promise.all(inFlight);
  agent.destroy();
  return {
    sent: total,
    accepted: latencies.length,
    seconds: (performance.now() - started) / 1000,
    latencies: latencies.sort((a, b) => a - b),
    errors,
    errorKinds,
    acceptedIds,
  };
}

/** The raw reference: Express with one INSERT per request into the same PostgreSQL. */
async function startReference(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_reference (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz DEFAULT now())',
  );
  const app = express();
  app.post('/ref', express.raw({ type: () => true }), async (req, res) => {
    await pool.query('INSERT INTO bench_reference (body) VALUES ($1)', [(req.body as Buffer).toString('utf8')]);
    res.status(202).json({ ok: true });
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ref`,
    stop: async () => {
      await new Promise((r) => server.close(r));
      await pool.query('DROP TABLE bench_reference');
      await pool.end();
    },
  };
}

/**
 * The open loop's raw reference (bench/raw-ingest.ts): plain Node HTTP and one INSERT per request
 * into the same PostgreSQL, in a process of its own. `stop` returns that process's CPU seconds.
 */
async function startRawIngest(databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/raw-ingest.ts'), databaseUrl], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /RAW_INGEST_URL (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`raw ingest reference exited (${code}): ${out.slice(-2000)}`)));
  });
  return {
    url,
    stop: async (): Promise<number> => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      const m = /RAW_INGEST_CPU (\S+)/.exec(out);
      return m ? Number(m[1]) : NaN;
    },
  };
}

const rate = (r: LoadResult) => r.accepted / r.seconds;

const figures = (r: LoadResult) => ({
  sent: r.sent,
  accepted_per_s: Number((r.accepted / r.seconds).toFixed(1)),
  ack_p50_ms: Number(percentile(r.latencies, 50).toFixed(1)),
  ack_p95_ms: Number(percentile(r.latencies, 95).toFixed(1)),
  ack_p99_ms: Number(percentile(r.latencies, 99).toFixed(1)),
  errors: r.errors,
  error_kinds: r.errorKinds,
});

const line = (name: string, r: LoadResult) =>
  `  ${name.padEnd(28)} sent ${r.sent}, accepted/s ${fmt(r.accepted / r.seconds)}, ack p50/p95/p99 ${fmt(percentile(r.latencies, 50))} / ${fmt(percentile(r.latencies, 95))} / ${fmt(percentile(r.latencies, 99))} ms, errors ${r.errors}${r.errors > 0 ? ` ${JSON.stringify(r.errorKinds)}` : ''}`;

async function processedCount(stack: EmbeddedStack, integrationId: string) {
  const s = await stack.call('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integrationId}`);
  return {
    settled: (s.byStatus['succeeded'] ?? 0) + (s.byStatus['failed'] ?? 0),
    total: s.total as number,
    byStatus: s.byStatus,
  };
}

/** Stored webhooks of an integration and their distinct payload ids. */
async function storedById(stack: EmbeddedStack, integrationId: string) {
  const c = new pg.Client({ connectionString: stack.databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ rows: number; unique_ids: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT payload::jsonb->>'id')::int AS unique_ids
       FROM incoming_webhooks WHERE integration_id = $1`,
      [integrationId],
    );
    return rows[0]!;
  } finally {
    await c.end();
  }
}

const signedBody =
  (secret: string): Body =>
  () => {
    const id = randomUUID();
    const body = JSON.stringify({ type: 'Ticket Changed', id, at: Date.now() });
    return { id, body, headers: { 'content-type': 'application/json', ...signStandardWebhook(body, secret) } };
  };

const perThousand = (seconds: number, n: number) => Number(((seconds * 1000) / n).toFixed(2));

/**
 * Issue 22's incoming accounting, after the other scenarios have drained: an open loop of signed
 * generic webhooks at `forwardRate`/s for `forwardSeconds` to an integration that forwards each to
 * a local receiver, against the raw reference (bench/raw-ingest.ts: plain Node HTTP + one INSERT,
 * its own process) at the same rate just before. Reports ack latency and its ratio to the
 * reference's, the whole stack's CPU (the launcher's process tree: API, worker, PostgreSQL, dev
 * server) from the first request until every accepted webhook was processed and forwarded, per
 * 1,000, and what was lost or doubled at the receiver by payload id.
 */
async function measureForward(
  stack: EmbeddedStack,
  o: { forwardRate: number; forwardSeconds: number },
): Promise<Record<string, unknown>> {
  const say = (l: string) => process.stdout.write(`${l}\n`);
  const receiver = await Receiver.start();
  try {
    const integration = await stack.call('POST', '/api/v1/integrations', {
      provider: 'generic',
      name: 'bench forward',
      processingMethod: 'service_immediate',
      settings: { forwardUrl: receiver.url('/forward') },
    });
    const url = `${stack.apiUrl}/hooks/generic/${integration.id}`;
    const body = signedBody(integration.signingSecret);
    const forwardedIds = () => receiver.requests('/forward').flatMap((r) => idsIn(r.json, 'id'));
    const settle = async (ids: string[], total: number, timeoutMs: number) => {
      const want = new Set(ids);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const processed = (await processedCount(stack, integration.id)).settled;
        if (allArrived(want, forwardedIds()) && processed >= total) return true;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // Warm-up: the first forwards pay for connections and caches.
    const warm = await openLoop(url, 20, 1, body, 202);
    await settle(warm.acceptedIds, warm.accepted, 120_000);

    const raw = await startRawIngest(stack.databaseUrl);
    const rawBefore = cpuSnapshot(stack.pid);
    const ref = await openLoop(raw.url, o.forwardRate, o.forwardSeconds, body, 202);
    const rawCpu = (await raw.stop()) + cpuSince(rawBefore).postgres;

    const before = cpuSnapshot(stack.pid);
    const started = performance.now();
    const ours = await openLoop(url, o.forwardRate, o.forwardSeconds, body, 202);
    const settled = await settle(ours.acceptedIds, warm.accepted + ours.accepted, 1_800_000);
    const drainSeconds = (performance.now() - started) / 1000;
    const cpu = cpuSince(before);
    const t = tally([...warm.acceptedIds, ...ours.acceptedIds], forwardedIds());
    const p99Ratio = percentile(ours.latencies, 99) / percentile(ref.latencies, 99);
    const split = (k: keyof CpuSplit) => perThousand(cpu[k], ours.accepted);

    say(`forwarding open loop, ${o.forwardRate} signed generic webhooks/s for ${o.forwardSeconds} s, each forwarded:`);
    say(line('raw reference (node http + 1 INSERT)', ref));
    say(line('switchyard', ours));
    say(`  ack p99 ratio to the reference:  ${fmt(p99Ratio, 2)}× (target ≤ 1.25×)`);
    say(
      `  every accepted webhook processed and forwarded after ${fmt(drainSeconds)} s${settled ? '' : ' (gave up waiting)'}; at the receiver by id: ${t.lost} lost, ${t.doubled} doubled`,
    );
    say(
      `  whole-stack CPU s per 1,000 accepted, processed and forwarded: ${fmt((cpu.total * 1000) / ours.accepted, 2)} (postgres ${fmt(split('postgres'), 2)}, api ${fmt(split('api'), 2)}, worker ${fmt(split('worker'), 2)}, temporal ${fmt(split('temporal'), 2)}, other ${fmt(split('other'), 2)}); the reference's (accept only) ${fmt((rawCpu * 1000) / ref.accepted, 2)}`,
    );
    return {
      forward_rate_per_s: o.forwardRate,
      forward_seconds: o.forwardSeconds,
      reference_forward_open: figures(ref),
      switchyard_forward_open: figures(ours),
      forward_ack_p50_ratio_to_reference: Number(
        (percentile(ours.latencies, 50) / percentile(ref.latencies, 50)).toFixed(2),
      ),
      forward_ack_p99_ratio_to_reference: Number(p99Ratio.toFixed(2)),
      forward_accepted: ours.accepted,
      forward_forwarded: t.arrived,
      forward_lost: t.lost,
      forward_doubled: t.doubled,
      forward_drain_seconds: Number(drainSeconds.toFixed(1)),
      forward_cpu_s_per_1000: perThousand(cpu.total, ours.accepted),
      forward_cpu_postgres_s_per_1000: split('postgres'),
      forward_cpu_api_s_per_1000: split('api'),
      forward_cpu_worker_s_per_1000: split('worker'),
      forward_cpu_temporal_s_per_1000: split('temporal'),
      forward_cpu_other_s_per_1000: split('other'),
      reference_forward_cpu_s_per_1000: perThousand(rawCpu, ref.accepted),
    };
  } finally {
    await receiver.close();
  }
}

/**
 * Generic ingress on the embedded stack, against a raw reference (Express + one INSERT on the
 * same PostgreSQL) and the engine's own ceiling, all in one run: closed loop at the reference's
 * saturation, then (with --rate) an open loop at a fixed rate; then the time until every accepted
 * webhook is processed, and the processing throughput. Ends with one BENCH_JSON line.
 */
export async function benchIngest(options: {
  requests: number;
  /** Closed-loop rounds (reference, then switchyard); the median round is reported. */
  rounds: number;
  connections: number;
  rate: number;
  seconds: number;
  /** The forwarding open loop (see measureForward): requests/s (0 skips it) and its length. */
  forwardRate: number;
  forwardSeconds: number;
}): Promise<void> {
  // Outbound calls to 127.0.0.1 are allowed for the forwarding scenario's receiver only.
  const stack = await startEmbeddedStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
  const reference = await startReference(stack.databaseUrl);
  try {
    const integration = await stack.call('POST', '/api/v1/integrations', {
      provider: 'generic',
      name: 'bench',
      processingMethod: 'service_immediate',
    });
    const url = `${stack.apiUrl}/hooks/generic/${integration.id}`;
    const signed: Body = () => {
      const body = JSON.stringify({ type: 'Ticket Changed', id: randomUUID(), at: Date.now() });
      return {
        body,
        headers: {
          'content-type': 'application/json',
          ...signStandardWebhook(body, integration.signingSecret),
        },
      };
    };
    const plain: Body = () => ({
      body: JSON.stringify({ type: 'Ticket Changed', id: randomUUID() }),
      headers: { 'content-type': 'application/json' },
    });

    const started = performance.now();
    // Rounds of reference-then-switchyard: each ratio pairs two loops run moments apart, and the
    // median round is reported, since one loop's rate on this noisy machine varies by half.
    const rounds: Array<{ ref: LoadResult; ours: LoadResult; ratio: number }> = [];
    for (let i = 0; i < Math.max(1, options.rounds); i++) {
      const ref = await closedLoop(reference.url, options.requests, options.connections, plain, 202);
      const ours = await closedLoop(url, options.requests, options.connections, signed, 202);
      rounds.push({ ref, ours, ratio: rate(ours) / rate(ref) });
    }
    const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!;
    const { ref: refClosed, ours: ourClosed, ratio } = median;
    const refOpen =
      options.rate > 0 ? await openLoop(reference.url, options.rate, options.seconds, plain, 202) : undefined;
    const ourOpen = options.rate > 0 ? await openLoop(url, options.rate, options.seconds, signed, 202) : undefined;
    const sendSeconds = (performance.now() - started) / 1000;
    const accepted = rounds.reduce((n, r) => n + r.ours.accepted, 0) + (ourOpen?.accepted ?? 0);

    let state = await processedCount(stack, integration.id);
    while (state.settled < accepted) {
      await new Promise((r) => setTimeout(r, 500));
      state = await processedCount(stack, integration.id);
    }
    const drainSeconds = (performance.now() - started) / 1000;
    const attempts = await stack.call('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integration.id}`);
    const ceiling = await measureEngineCeiling({
      address: stack.temporalAddress,
      namespace: stack.temporalNamespace,
      workflows: 400,
    });

    const lines = [
      `ingest benchmark: generic signed webhooks, embedded stack (service_immediate)`,
      `closed loop, ${options.requests} requests, ${options.connections} connections, ${rounds.length} rounds (reference, then switchyard):`,
      ...rounds.map(
        (r, i) =>
          `  round ${i + 1}: reference ${fmt(rate(r.ref))}/s, switchyard ${fmt(rate(r.ours))}/s = ${fmt(r.ratio * 100)} %`,
      ),
      `  the median round:`,
      line('raw reference (1 INSERT)', refClosed),
      line('switchyard', ourClosed),
      `  switchyard / reference:      ${fmt(ratio * 100)} % of the reference's accepted rate (median round)`,
      ...(refOpen && ourOpen
        ? [
            `open loop, ${options.rate} requests/s for ${options.seconds} s:`,
            line('raw reference (1 INSERT)', refOpen),
            line('switchyard', ourOpen),
          ]
        : []),
      `processing:`,
      `  accepted webhooks:           ${accepted} (stored: ${state.total})`,
      `  all processed after:         ${fmt(drainSeconds)} s from the first request (sending took ${fmt(sendSeconds)} s)`,
      `  processing throughput:       ${fmt(accepted / drainSeconds)} webhooks/s`,
      `  final statuses:              ${JSON.stringify(attempts.byStatus)}`,
      `engine ceiling (trivial workflows on the same dev server): ${fmt(ceiling.workflowsPerSecond)} workflows/s`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const stored = await storedById(stack, integration.id);
    const json: Record<string, unknown> = {
      reference_closed: figures(refClosed),
      switchyard_closed: figures(ourClosed),
      accepted_ratio_to_reference: Number(ratio.toFixed(3)),
      closed_rounds: rounds.map((r) => ({
        reference_per_s: Number(rate(r.ref).toFixed(1)),
        switchyard_per_s: Number(rate(r.ours).toFixed(1)),
        ratio: Number(r.ratio.toFixed(3)),
      })),
      ...(refOpen && ourOpen
        ? {
            open_rate_per_s: options.rate,
            open_seconds: options.seconds,
            reference_open: figures(refOpen),
            switchyard_open: figures(ourOpen),
          }
        : {}),
      accepted,
      stored: state.total,
      processed: state.settled,
      drain_seconds: Number(drainSeconds.toFixed(1)),
      processing_per_s: Number((accepted / drainSeconds).toFixed(1)),
      engine_ceiling_workflows_per_s: Number(ceiling.workflowsPerSecond.toFixed(1)),
      // These webhooks are not forwarded: counted in the store by payload id instead.
      stored_lost: Math.max(0, accepted - stored.unique_ids),
      stored_doubled: stored.rows - stored.unique_ids,
    };
    process.stdout.write(`  lost / doubled (stored, by payload id): ${json.stored_lost} / ${json.stored_doubled}\n`);
    if (options.forwardRate > 0) Object.assign(json, await measureForward(stack, options));
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await reference.stop().catch(() => undefined);
    await stack.stop();
  }
}
