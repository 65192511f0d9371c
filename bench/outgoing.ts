import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { Receiver, type RecordedRequest } from '../test/harness/receiver';
import { ROOT } from '../test/harness/paths';
import { measureEngineCeiling } from './engine-ceiling';
import { fmt, percentile, startEmbeddedStack, type EmbeddedStack } from './lib';
import { cpuSince, cpuSnapshot, nodeProcesses, type CpuSplit } from './process-cpu';
import { allArrived, idsIn, tally, type Tally } from './tally';

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
  /**
   * (c100, c300, …) issue 22's steady loads: one open-loop run per rate to one webhook, each
   * `steadyLoadSeconds` long (60; `--steady-seconds` or BENCH_STEADY_SECONDS for quick runs).
   */
  steadyRates: number[];
  steadyLoadSeconds: number;
  /** (d) how long the slow webhook takes to answer, ms. */
  slowMs: number;
  /** (e) batching wait (s), maximum items, and timer bursts. */
  batchWait: number;
  batchMax: number;
  bursts: number;
  /** (a64) the webhook's concurrency limit for the second burst (the peer's 64 delivery workers). */
  burstConcurrency: number;
  /** Scenarios to run (ceiling, raw, a, a64, b, c, d, e, c<rate> per steady rate); all when empty. */
  only: string[];
  /**
   * A directory for CPU profiles of the (a64) burst: the launcher (API) and the worker write
   * `<pid>.cpuprofile` there (bench/cpu-profile-hook.mjs), and PostgreSQL's top statements
   * are printed.
   */
  profileDir: string;
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

/**
 * Posts events over node:http with kept-alive connections, rejecting unless 2xx: an open loop at
 * hundreds a second through fetch costs the client as much CPU as the API answering it (see
 * bench/incoming.ts), and the client shares the two cores with the stack. Idle sockets close after
 * 4 s, before the server's 5 s keep-alive timeout.
 */
function httpPoster(stack: EmbeddedStack) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512, timeout: 4000 });
  const url = `${stack.apiUrl}/api/v1/events`;
  const post = (objectId: string) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({
        type: 'Ticket Changed',
        objectId,
        object: { fields: { summary: 'bench', status: { id: 1, display: 'New' } } },
      });
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          timeout: 30_000,
          headers: {
            authorization: `Bearer ${stack.apiKey}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`HTTP ${status}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

/**
 * Posts `rate` events a second for `seconds`, on a clock (an open loop: not waiting for answers).
 * `sentAt` holds the accepted events only; a refused or failed post counts as an error. `lagMs`
 * is how late each post left against its schedule (the client keeping up, or not).
 */
async function steady(
  stack: EmbeddedStack,
  prefix: string,
  rate: number,
  seconds: number,
  post: (objectId: string) => Promise<unknown> = (objectId) => postEvent(stack, objectId),
) {
  const sentAt = new Map<string, number>();
  const lagMs: number[] = [];
  let errors = 0;
  const posts: Array<Promise<unknown>> = [];
  const start = Date.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const objectId = `${prefix}-${i}`;
    const at = Date.now();
    lagMs.push(at - due);
    posts.push(
      post(objectId).then(
        () => sentAt.set(objectId, at),
        () => errors++,
      ),
    );
  }
  await Promise.all(posts);
  return { sentAt, errors, sent: rate * seconds, lagMs: sorted(lagMs) };
}

/**
 * The requests to `path` once every one of `ids` has arrived (each item of a batch counts), or
 * what had arrived at the deadline: a missing id is reported as lost by the tally, not thrown.
 */
async function received(receiver: Receiver, path: string, ids: Iterable<string>, timeoutMs = 600_000) {
  const want = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  const arrivals = () => receiver.requests(path).flatMap((r) => idsIn(r.json, 'objectId'));
  while (!allArrived(want, arrivals())) {
    if (Date.now() > deadline) {
      process.stdout.write(`  ${path}: not every item arrived within ${timeoutMs / 1000} s\n`);
      break;
    }
    await sleep(100);
  }
  return receiver.requests(path);
}

/** Lost and doubled items at the receiver, by id, over `paths` (taken at the end of the run). */
const tallyAt = (receiver: Receiver, paths: string[], ids: Iterable<string>): Tally =>
  tally(
    ids,
    paths.flatMap((p) => receiver.requests(p).flatMap((r) => idsIn(r.json, 'objectId'))),
  );

const idRange = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

/** Event→receiver latency of each first arrival, ascending. */
const latencies = (reqs: RecordedRequest[], sentAt: Map<string, number>) => {
  const first = new Map<string, number>();
  for (const r of reqs) if (!first.has(r.json.objectId)) first.set(r.json.objectId, r.receivedAt);
  return sorted([...first].filter(([id]) => sentAt.has(id)).map(([id, at]) => at - sentAt.get(id)!));
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

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

interface BurstFigures {
  acceptedPerSecond: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  /** Whole-stack CPU seconds per 1,000 delivered events, and its split by process. */
  cpuPer1000: number;
  cpu: CpuSplit;
}

/**
 * (a) A burst of `o.events` to one unbatched webhook, after a 20-event warm-up: accepted
 * events/s, deliveries/s (first post → last arrival), event→receiver latency, and the CPU the
 * whole stack (the launcher's process tree: API, worker, PostgreSQL, Temporal) spent on it.
 */
async function measureBurst(
  stack: EmbeddedStack,
  receiver: Receiver,
  name: string,
  o: OutgoingBenchOptions,
  extra: Record<string, unknown>,
  profile = false,
): Promise<BurstFigures> {
  const id = await webhook(stack, receiver, `/${name}`, extra);
  await burst(stack, `${name}-warm`, 20, 20);
  await received(receiver, `/${name}`, idRange(`${name}-warm`, 20));
  const before = cpuSnapshot(stack.pid);
  // The API and worker profile the burst only (bench/cpu-profile-hook.mjs).
  if (profile) for (const pid of nodeProcesses(before)) process.kill(pid, 'SIGUSR2');
  const sent = await burst(stack, name, o.events, o.concurrency);
  const reqs = (await received(receiver, `/${name}`, sent.sentAt.keys())).filter(
    (r) => !String(r.json.objectId).startsWith(`${name}-warm`),
  );
  const cpu = cpuSince(before);
  if (profile) for (const pid of nodeProcesses(before)) process.kill(pid, 'SIGUSR2');
  const first = Math.min(...sent.sentAt.values());
  const last = Math.max(...reqs.map((r) => r.receivedAt));
  const lat = latencies(reqs, sent.sentAt);
  await remove(stack, id);
  return {
    acceptedPerSecond: o.events / sent.acceptSeconds,
    deliveriesPerSecond: o.events / ((last - first) / 1000),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    cpuPer1000: (cpu.total * 1000) / o.events,
    cpu,
  };
}

/**
 * The same-run raw reference (bench/raw-delivery.ts, its own process): the same burst through
 * a minimal durable loop on the stack's PostgreSQL to the same receiver. Its CPU is that
 * process's plus what PostgreSQL spent meanwhile.
 */
async function measureRaw(stack: EmbeddedStack, receiver: Receiver, o: OutgoingBenchOptions): Promise<BurstFigures> {
  const before = cpuSnapshot(stack.pid);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'bench/raw-delivery.ts'),
      stack.databaseUrl,
      receiver.url('/raw'),
      String(o.events),
      String(o.concurrency),
      String(o.burstConcurrency),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('RAW_JSON '));
  if (code !== 0 || !line) throw new Error(`raw reference failed (${code}): ${out.slice(-2000)}`);
  const pgCpu = cpuSince(before).postgres;
  const raw = JSON.parse(line.slice('RAW_JSON '.length)) as {
    sentAt: Record<string, number>;
    insertSeconds: number;
    cpuSeconds: number;
  };
  const sentAt = new Map(Object.entries(raw.sentAt));
  const reqs = receiver.requests('/raw');
  const lat = latencies(reqs, sentAt);
  const first = Math.min(...sentAt.values());
  const last = Math.max(...reqs.map((r) => r.receivedAt));
  const total = raw.cpuSeconds + pgCpu;
  return {
    acceptedPerSecond: o.events / raw.insertSeconds,
    deliveriesPerSecond: o.events / ((last - first) / 1000),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    cpuPer1000: (total * 1000) / o.events,
    cpu: { postgres: pgCpu, api: 0, worker: raw.cpuSeconds, temporal: 0, other: 0 },
  };
}

/** PostgreSQL's statements by total time since the last reset (pg_stat_statements). */
async function topStatements(databaseUrl: string, reset: boolean): Promise<string[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    if (reset) {
      await c.query('SELECT pg_stat_statements_reset()');
      return [];
    }
    const { rows } = await c.query<{ total_ms: number; calls: string; mean_ms: number; query: string }>(
      `SELECT total_exec_time::float8 AS total_ms, calls, mean_exec_time::float8 AS mean_ms, query
       FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15`,
    );
    return rows.map(
      (r) =>
        `${fmt(r.total_ms, 0).padStart(7)} ms ${String(r.calls).padStart(6)} calls ${fmt(r.mean_ms, 3).padStart(8)} ms  ${r.query.replace(/\s+/g, ' ').slice(0, 160)}`,
    );
  } finally {
    await c.end();
  }
}

const burstJson = (prefix: string, f: BurstFigures, events: number) => ({
  [`${prefix}_events_accepted_per_s`]: round(f.acceptedPerSecond),
  [`${prefix}_deliveries_per_s`]: round(f.deliveriesPerSecond),
  [`${prefix}_p50_ms`]: f.p50,
  [`${prefix}_p99_ms`]: f.p99,
  [`${prefix}_cpu_s_per_1000`]: round(f.cpuPer1000, 2),
  [`${prefix}_cpu_postgres_s_per_1000`]: round((f.cpu.postgres * 1000) / events, 2),
  [`${prefix}_cpu_api_s_per_1000`]: round((f.cpu.api * 1000) / events, 2),
  [`${prefix}_cpu_worker_s_per_1000`]: round((f.cpu.worker * 1000) / events, 2),
  [`${prefix}_cpu_temporal_s_per_1000`]: round((f.cpu.temporal * 1000) / events, 2),
});

const sayBurst = (say: (l: string) => void, label: string, f: BurstFigures) => {
  say(`  ${label}:`);
  say(
    `      events accepted/s ${fmt(f.acceptedPerSecond)}; deliveries/s ${fmt(f.deliveriesPerSecond)}; event→receiver p50/p99 ${fmt(f.p50, 0)} / ${fmt(f.p99, 0)} ms`,
  );
  say(
    `      CPU s per 1,000 events ${fmt(f.cpuPer1000, 2)} (postgres ${fmt(f.cpu.postgres, 2)}, api ${fmt(f.cpu.api, 2)}, worker ${fmt(f.cpu.worker, 2)}, temporal ${fmt(f.cpu.temporal, 2)}, other ${fmt(f.cpu.other, 2)} s in all)`,
  );
};

/**
 * Outgoing webhooks on the embedded stack against a local receiver: the engine's own
 * ceiling (trivial workflows/s on the same Temporal server), then (a) a burst to one
 * webhook, (b) fan-out, (c) steady load latency, (d) the same with a slow webhook beside
 * it, (e) batching: deliveries per 1,000 events and the timer flush's error.
 */
export async function benchOutgoing(o: OutgoingBenchOptions): Promise<void> {
  const runs = (scenario: string) => o.only.length === 0 || o.only.includes(scenario);
  const receiver = await Receiver.start();
  const profiling = o.profileDir !== '';
  const stack = await startEmbeddedStack({
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    ...(profiling
      ? {
          NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${path.join(ROOT, 'bench/cpu-profile-hook.mjs')}`,
          BENCH_CPU_PROFILE_DIR: path.resolve(o.profileDir),
          EMBEDDED_POSTGRES_SETTINGS: 'shared_preload_libraries=pg_stat_statements',
        }
      : {}),
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let json: Record<string, unknown> = {};
  // Nothing lost or doubled: each scenario's ids and paths, tallied at the receiver at the end.
  const checks: Array<{ key: string; paths: string[]; ids: string[] }> = [];
  try {
    say(`outgoing webhooks benchmark: embedded stack, local receiver, ${o.concurrency} events posted at once`);
    if (runs('ceiling')) {
      const ceiling = await measureEngineCeiling({
        address: stack.temporalAddress,
        namespace: stack.temporalNamespace,
        concurrency: o.concurrency,
      });
      say(
        `  engine ceiling (trivial workflows/s, ${ceiling.concurrency} in flight): ${fmt(ceiling.workflowsPerSecond)}`,
      );
      json.engine_ceiling_workflows_per_s = round(ceiling.workflowsPerSecond);
    }

    // The raw reference first, then the same burst through Switchyard at each concurrency.
    let raw: BurstFigures | undefined;
    if (runs('raw')) {
      raw = await measureRaw(stack, receiver, o);
      sayBurst(say, `raw reference (plain Node + PostgreSQL, ${o.burstConcurrency} delivery loops)`, raw);
      json = { ...json, a_events: o.events, ...burstJson('raw', raw, o.events) };
      checks.push({ key: 'raw', paths: ['/raw'], ids: idRange('R', o.events) });
    }
    for (const [key, extra] of [
      ['a', {}],
      ['a64', { concurrencyLimit: o.burstConcurrency }],
    ] as const) {
      if (!runs(key)) continue;
      if (profiling && key === 'a64') await topStatements(stack.databaseUrl, true);
      const f = await measureBurst(stack, receiver, key, o, extra, profiling && key === 'a64');
      sayBurst(
        say,
        `(${key}) burst ${o.events} events → 1 webhook, concurrency ${'concurrencyLimit' in extra ? extra.concurrencyLimit : 'default'}`,
        f,
      );
      json = { ...json, a_events: o.events, ...burstJson(key, f, o.events) };
      checks.push({ key, paths: [`/${key}`], ids: [...idRange(`${key}-warm`, 20), ...idRange(key, o.events)] });
      if (raw) {
        const ratio = f.deliveriesPerSecond / raw.deliveriesPerSecond;
        say(`      ${fmt(ratio, 2)}× the raw reference's deliveries/s`);
        json[`${key}_ratio_to_raw`] = round(ratio, 2);
      }
      if (profiling && key === 'a64') {
        say('  PostgreSQL during (a64), top statements by total time:');
        for (const l of await topStatements(stack.databaseUrl, false)) say(`    ${l}`);
      }
    }

    // (b) Fan-out.
    if (runs('b')) {
      const fan = await Promise.all(
        Array.from({ length: o.fanoutWebhooks }, (_, i) => webhook(stack, receiver, `/b${i}`)),
      );
      const sentB = await burst(stack, 'B', o.fanoutEvents, o.concurrency);
      const reqsB = (await Promise.all(fan.map((_, i) => received(receiver, `/b${i}`, sentB.sentAt.keys())))).flat();
      const firstB = Math.min(...sentB.sentAt.values());
      const rateB = reqsB.length / ((Math.max(...reqsB.map((r) => r.receivedAt)) - firstB) / 1000);
      say(
        `  (b) fan-out ${o.fanoutEvents} events → ${o.fanoutWebhooks} webhooks (${reqsB.length} deliveries): deliveries/s ${fmt(rateB)} (target ≥ 1,000)`,
      );
      // Each webhook must get each event once: tallied per webhook, summed.
      for (let i = 0; i < o.fanoutWebhooks; i++)
        checks.push({ key: `b${i}`, paths: [`/b${i}`], ids: idRange('B', o.fanoutEvents) });
      await Promise.all(fan.map((id) => remove(stack, id)));
      json = { ...json, b_deliveries: reqsB.length, b_deliveries_per_s: round(rateB) };
    }

    // (c) Steady load.
    let latC: number[] = [];
    if (runs('c')) {
      const c = await webhook(stack, receiver, '/c');
      const sentC = await steady(stack, 'C', o.steadyRate, o.steadySeconds);
      checks.push({ key: 'c', paths: ['/c'], ids: [...sentC.sentAt.keys()] });
      latC = latencies(await received(receiver, '/c', sentC.sentAt.keys()), sentC.sentAt);
      say(
        `  (c) steady ${o.steadyRate} events/s for ${o.steadySeconds} s → 1 webhook: p50/p99 ${fmt(percentile(latC, 50), 0)} / ${fmt(percentile(latC, 99), 0)} ms`,
      );
      await remove(stack, c);
      json = { ...json, c_p50_ms: percentile(latC, 50), c_p99_ms: percentile(latC, 99), c_errors: sentC.errors };
    }

    // (d) Isolation: the same load, with a webhook beside it that answers after `slowMs`.
    if (runs('d')) {
      const slow = await webhook(stack, receiver, '/d-slow');
      receiver.setDefault('/d-slow', { status: 200, delayMs: o.slowMs });
      const healthy = await webhook(stack, receiver, '/d');
      const sentD = await steady(stack, 'D', o.steadyRate, o.steadySeconds);
      checks.push({ key: 'd', paths: ['/d'], ids: [...sentD.sentAt.keys()] });
      const latD = latencies(await received(receiver, '/d', sentD.sentAt.keys()), sentD.sentAt);
      const change = (x: number, base: number) => ((x - base) / base) * 100;
      const dP50 = percentile(latD, 50);
      const dP99 = percentile(latD, 99);
      say(
        `  (d) isolation, beside a webhook answering after ${o.slowMs / 1000} s: healthy p50/p99 ${fmt(dP50, 0)} / ${fmt(dP99, 0)} ms (${fmt(change(dP50, percentile(latC, 50)), 0)} % / ${fmt(change(dP99, percentile(latC, 99)), 0)} % against (c)); slow one answered ${receiver.requests('/d-slow').length}`,
      );
      await Promise.all([remove(stack, slow), remove(stack, healthy)]);
      receiver.setDefault('/d-slow', undefined);
      json = { ...json, d_p50_ms: dP50, d_p99_ms: dP99, d_errors: sentD.errors };
      if (latC.length > 0) {
        json.d_p50_change_pct = round(change(dP50, percentile(latC, 50)));
        json.d_p99_change_pct = round(change(dP99, percentile(latC, 99)));
      }
    }

    // (e) Batching: deliveries per 1,000 events, then paced bursts that only the timer can close.
    if (runs('e')) {
      const e = await webhook(stack, receiver, '/e', {
        batching: { mode: 'any_event', waitSeconds: o.batchWait, maxItems: o.batchMax },
      });
      await burst(stack, 'E', o.events, o.concurrency);
      const batches = await received(receiver, '/e', idRange('E', o.events));
      checks.push({ key: 'e', paths: ['/e'], ids: idRange('E', o.events) });
      const perThousand = (batches.length * 1000) / o.events;
      await stack.call('PATCH', `/api/v1/webhooks/${e}`, { url: receiver.url('/e-timer') });
      const errors: number[] = [];
      for (let b = 0; b < o.bursts; b++) {
        const started = Date.now();
        await burst(stack, `T${b}`, 5, 5);
        const timerIds = Array.from({ length: b + 1 }, (_, k) => idRange(`T${k}`, 5)).flat();
        const reqs = await received(receiver, '/e-timer', timerIds, (o.batchWait + 30) * 1000);
        errors.push(reqs[reqs.length - 1]!.receivedAt - (started + o.batchWait * 1000));
        await sleep(200);
      }
      checks.push({
        key: 'e_timer',
        paths: ['/e-timer'],
        ids: Array.from({ length: o.bursts }, (_, k) => idRange(`T${k}`, 5)).flat(),
      });
      const flush = sorted(errors);
      say(
        `  (e) batching (any event, wait ${o.batchWait} s, max ${o.batchMax}): deliveries per 1,000 events ${fmt(perThousand)}; timer flush error p50/p99 +${fmt(percentile(flush, 50), 0)} / +${fmt(percentile(flush, 99), 0)} ms (${o.bursts} bursts, from the first post)`,
      );
      json = {
        ...json,
        e_deliveries_per_1000: round(perThousand),
        e_flush_error_p50_ms: percentile(flush, 50),
        e_flush_error_p99_ms: percentile(flush, 99),
      };
    }

    // (c100, c300, …) Issue 22's steady loads, open loop, one webhook each.
    for (const rate of o.steadyRates) {
      const key = `c${rate}`;
      if (!runs(key)) continue;
      const id = await webhook(stack, receiver, `/${key}`);
      const poster = httpPoster(stack);
      const sent = await steady(stack, key.toUpperCase(), rate, o.steadyLoadSeconds, poster.post);
      poster.close();
      checks.push({ key, paths: [`/${key}`], ids: [...sent.sentAt.keys()] });
      const lat = latencies(await received(receiver, `/${key}`, sent.sentAt.keys()), sent.sentAt);
      say(
        `  (${key}) steady ${rate} events/s for ${o.steadyLoadSeconds} s → 1 webhook, open loop: event→receiver p50/p99 ${fmt(percentile(lat, 50), 0)} / ${fmt(percentile(lat, 99), 0)} ms; ${sent.sentAt.size} of ${sent.sent} accepted, ${sent.errors} errors; send lag p99 ${fmt(percentile(sent.lagMs, 99), 0)} ms`,
      );
      await remove(stack, id);
      json = {
        ...json,
        [`${key}_rate_per_s`]: rate,
        [`${key}_seconds`]: o.steadyLoadSeconds,
        [`${key}_sent`]: sent.sent,
        [`${key}_errors`]: sent.errors,
        [`${key}_p50_ms`]: percentile(lat, 50),
        [`${key}_p99_ms`]: percentile(lat, 99),
        [`${key}_send_lag_p99_ms`]: round(percentile(sent.lagMs, 99), 0),
      };
    }

    // Lost and doubled, counted at the receiver by id after every scenario has run (so a late
    // re-send is counted too).
    let lost = 0;
    let doubled = 0;
    const bLoss = { lost: 0, doubled: 0 };
    for (const c of checks) {
      const t = tallyAt(receiver, c.paths, c.ids);
      lost += t.lost;
      doubled += t.doubled;
      if (/^b\d+$/.test(c.key)) {
        bLoss.lost += t.lost;
        bLoss.doubled += t.doubled;
      } else {
        json[`${c.key}_lost`] = t.lost;
        json[`${c.key}_doubled`] = t.doubled;
      }
      if (t.lost > 0 || t.doubled > 0) say(`  ${c.key}: ${t.lost} lost, ${t.doubled} doubled of ${t.expected}`);
    }
    if (checks.some((c) => /^b\d+$/.test(c.key))) {
      json.b_lost = bLoss.lost;
      json.b_doubled = bLoss.doubled;
    }
    json.lost = lost;
    json.doubled = doubled;
    say(`  at the receiver, by id: ${lost} lost, ${doubled} doubled over every scenario`);

    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await stack.stop();
    await receiver.close();
  }
}
