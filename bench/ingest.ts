import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express from 'express';
import pg from 'pg';
import { signStandardWebhook } from '../test/emulators/webhook-sender';
import { measureEngineCeiling } from './engine-ceiling';
import { fmt, percentile, startEmbeddedStack, type EmbeddedStack } from './lib';

interface LoadResult {
  sent: number;
  accepted: number;
  seconds: number;
  /** Ack latencies of accepted requests, ms, ascending. */
  latencies: number[];
  errors: number;
  /** What each error was: an HTTP status, or the client's error code. */
  errorKinds: Record<string, number>;
}

const countKind = (kinds: Record<string, number>, kind: string) => {
  kinds[kind] = (kinds[kind] ?? 0) + 1;
};

type Body = () => { body: string; headers: Record<string, string> };

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
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const { body: payload, headers } = body();
      const t0 = performance.now();
      const req = http.request(url, { method: 'POST', agent, headers, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === okStatus) latencies.push(performance.now() - t0);
          else {
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
}): Promise<void> {
  const stack = await startEmbeddedStack();
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
    const json = {
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
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await reference.stop().catch(() => undefined);
    await stack.stop();
  }
}
