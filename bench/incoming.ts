import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { startXeroEmulator, type XeroEmulator } from '../test/emulators/xero';
import { buildXeroPayload, signXero } from '../test/emulators/webhook-sender';
import { fmt, percentile, startEmbeddedStack, type EmbeddedStack } from './lib';

const CLIENT = { clientId: 'bench-app', clientSecret: 'bench-client-secret-0123456789' };
const WEBHOOK_KEY = 'bench-webhook-key-0123456789abcdefghijklmnopqrstuvwxyz';

export interface IncomingBenchOptions {
  /** Webhooks in the delayed-method burst. */
  webhooks: number;
  /** Delayed-method bursts, each for a fresh tenant and after the last has drained; the median is reported. */
  bursts: number;
  /** Webhooks for the immediate method (one provider call each: 60/min is slow by design). */
  immediate: number;
  connections: number;
  /** Emulated Xero API latency per call. */
  latencyMs: number;
}

interface RunFigures {
  method: string;
  webhooks: number;
  ackMs: number[];
  non2xx: number;
  sendSeconds: number;
  drainSeconds: number;
  apiCalls: number;
  rateLimited: number;
  maxConcurrency: number;
  byStatus: Record<string, number>;
}

async function consent(xero: XeroEmulator): Promise<string> {
  const code = xero.issueAuthorizationCode({ clientId: CLIENT.clientId });
  const res = await fetch(`${xero.url}/connect/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
  });
  return ((await res.json()) as { refresh_token: string }).refresh_token;
}

/**
 * Posts one signed single-event Xero webhook per invoice, `connections` at a time over keep-alive
 * connections; returns ack latencies. Bodies and signatures are made before the clock starts and
 * sent with node:http rather than fetch: on a 2-core machine the sender shares the CPU with the
 * stack it measures, and fetch alone cost as much CPU as the API answering it.
 */
async function send(url: string, tenantId: string, invoiceIds: string[], connections: number) {
  const requests = invoiceIds.map((id) => {
    const body = JSON.stringify(buildXeroPayload([{ resourceId: id, tenantId, eventCategory: 'INVOICE' }]));
    return { body, signature: signXero(body, WEBHOOK_KEY) };
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const post = (r: { body: string; signature: string }) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(r.body),
            'x-xero-signature': r.signature,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(r.body);
    });
  const ackMs: number[] = [];
  let non2xx = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const started = performance.now();
        const status = await post(r).catch(() => 0);
        ackMs.push(performance.now() - started);
        if (status < 200 || status >= 300) non2xx++;
      }
    }),
  );
  agent.destroy();
  return { ackMs, non2xx };
}

async function run(
  stack: EmbeddedStack,
  xero: XeroEmulator,
  method: 'service_delayed' | 'service_immediate',
  n: number,
  connections: number,
): Promise<RunFigures> {
  const tenantId = randomUUID();
  xero.addTenant(tenantId, `Bench ${method}`);
  const invoiceIds = Array.from({ length: n }, () => xero.upsertInvoice(tenantId, {}).InvoiceID);
  const integration = await stack.call('POST', '/api/v1/integrations', {
    provider: 'xero',
    name: `bench ${method}`,
    processingMethod: method,
    webhookKey: WEBHOOK_KEY,
    clientSecret: CLIENT.clientSecret,
    refreshToken: await consent(xero),
    settings: {
      clientId: CLIENT.clientId,
      tokenUrl: `${xero.url}/connect/token`,
      apiBaseUrl: `${xero.url}/api.xro/2.0`,
    },
  });
  xero.resetStats();
  const started = performance.now();
  const { ackMs, non2xx } = await send(
    `${stack.apiUrl}/hooks/xero/${integration.id}`,
    tenantId,
    invoiceIds,
    connections,
  );
  const sendSeconds = (performance.now() - started) / 1000;
  let byStatus: Record<string, number>;
  for (;;) {
    const summary = await stack.call('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integration.id}`);
    byStatus = summary.byStatus;
    const settled = (byStatus['succeeded'] ?? 0) + (byStatus['failed'] ?? 0) + (byStatus['stale'] ?? 0);
    if (settled >= n) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const drainSeconds = (performance.now() - started) / 1000;
  const stats = xero.stats();
  return {
    method,
    webhooks: n,
    ackMs: ackMs.sort((a, b) => a - b),
    non2xx,
    sendSeconds,
    drainSeconds,
    apiCalls: stats.apiCalls,
    rateLimited: Object.values(stats.rateLimited).reduce((a, b) => a + b, 0),
    maxConcurrency: stats.maxConcurrencyByTenant[tenantId] ?? 0,
    byStatus,
  };
}

function report(f: RunFigures): string[] {
  return [
    `  ${f.method}: ${f.webhooks} webhooks for one tenant`,
    `    ack latency p50/p99:     ${fmt(percentile(f.ackMs, 50))} / ${fmt(percentile(f.ackMs, 99))} ms (non-2xx: ${f.non2xx}); sending took ${fmt(f.sendSeconds)} s`,
    `    Xero API calls:          ${f.apiCalls} (${fmt(f.apiCalls / f.webhooks, 3)} per webhook), peak concurrency ${f.maxConcurrency}`,
    `    429s seen:               ${f.rateLimited}`,
    `    time to drain:           ${fmt(f.drainSeconds)} s`,
    `    failures:                ${f.byStatus['failed'] ?? 0}   final statuses ${JSON.stringify(f.byStatus)}`,
  ];
}

/**
 * The incoming webhook service under Xero's real per-tenant limits (60 calls/minute, 5
 * concurrent, 5,000/day), on the embedded stack: a burst for one tenant with the delayed
 * (batched) method, then a smaller one with the immediate method for comparison. The burst is
 * repeated (`bursts`, each drained before the next) and the median burst reported beside every
 * burst's figures: on a noisy 2-core machine one burst's p99 varies by tens of milliseconds.
 */
export async function benchIncoming(options: IncomingBenchOptions): Promise<void> {
  const xero = await startXeroEmulator({ clients: [CLIENT], latencyMs: options.latencyMs });
  const stack = await startEmbeddedStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', PROVIDER_CUSTOM_HOSTS: '127.0.0.1' });
  try {
    const bursts: RunFigures[] = [];
    for (let i = 0; i < Math.max(1, options.bursts); i++) {
      bursts.push(await run(stack, xero, 'service_delayed', options.webhooks, options.connections));
    }
    const p99 = (f: RunFigures) => percentile(f.ackMs, 99);
    const byP99 = [...bursts].sort((a, b) => p99(a) - p99(b));
    const delayed = byP99[Math.floor((byP99.length - 1) / 2)]!;
    const immediate =
      options.immediate > 0
        ? await run(stack, xero, 'service_immediate', options.immediate, options.connections)
        : undefined;
    const lines = [
      `incoming benchmark: Xero emulator at its real limits (60/min, 5 concurrent, 5,000/day per tenant), ${options.latencyMs} ms API latency, ${options.connections} connections, embedded stack`,
      ...(bursts.length > 1
        ? [
            `  service_delayed, ${bursts.length} bursts: ack p99 ${bursts.map((b) => fmt(p99(b))).join(' / ')} ms, p50 ${bursts.map((b) => fmt(percentile(b.ackMs, 50))).join(' / ')} ms; the median burst:`,
          ]
        : []),
      ...report(delayed),
      ...(immediate
        ? [
            ...report(immediate),
            `    (at one call per webhook, ${options.webhooks} webhooks would need ≥ ${fmt(options.webhooks / 60, 0)} min and the whole daily limit)`,
          ]
        : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const figures = (f: RunFigures) => ({
      webhooks: f.webhooks,
      ack_p50_ms: Number(percentile(f.ackMs, 50).toFixed(1)),
      ack_p99_ms: Number(percentile(f.ackMs, 99).toFixed(1)),
      non_2xx: f.non2xx,
      send_seconds: Number(f.sendSeconds.toFixed(1)),
      api_calls: f.apiCalls,
      api_calls_per_webhook: Number((f.apiCalls / f.webhooks).toFixed(3)),
      rate_limited: f.rateLimited,
      drain_seconds: Number(f.drainSeconds.toFixed(1)),
      failed: f.byStatus['failed'] ?? 0,
    });
    const json = {
      delayed: figures(delayed),
      delayed_bursts: bursts.map(figures),
      ...(immediate ? { immediate: figures(immediate) } : {}),
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await stack.stop();
    await xero.stop();
  }
}
