import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { signGeneric } from '../src/integrations/generic/webhook';
import { fmt, percentile, startEmbeddedStack } from './lib';

/**
 * Drives the generic ingress over HTTP on the embedded stack: accepted requests/s, ack latency,
 * errors, and the time until every accepted webhook has been processed by the worker.
 */
export async function benchIngest(options: { requests: number; connections: number }): Promise<void> {
  const stack = await startEmbeddedStack();
  try {
    const integration = await stack.call('POST', '/api/v1/integrations', {
      provider: 'generic',
      name: 'bench',
      processingMethod: 'service_immediate',
    });
    const url = `${stack.apiUrl}/hooks/generic/${integration.id}`;
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const started = performance.now();
    // autocannon's typings model only the promise; the instance also emits per-response events.
    const instance = autocannon({
      url,
      connections: options.connections,
      amount: options.requests,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const body = JSON.stringify({ type: 'Ticket Changed', id: randomUUID(), at: Date.now() });
            return {
              ...req,
              body,
              headers: {
                'content-type': 'application/json',
                'x-switchyard-signature': signGeneric(body, integration.signingSecret),
              },
            };
          },
        },
      ],
    }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
    void instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
    });
    const result = await instance;
    const sendSeconds = (performance.now() - started) / 1000;
    const accepted = statuses.get(202) ?? 0;

    let summary: { total: number; byStatus: Record<string, number> };
    for (;;) {
      summary = await stack.call('GET', `/api/v1/incoming-webhooks/summary?integrationId=${integration.id}`);
      const settled = (summary.byStatus['succeeded'] ?? 0) + (summary.byStatus['failed'] ?? 0);
      if (settled >= accepted) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const drainSeconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);

    const lines = [
      `ingest benchmark: ${options.requests} signed webhooks, ${options.connections} connections, embedded stack`,
      `  accepted (202):           ${accepted}`,
      `  errors:                   ${result.errors + result.timeouts} transport, ${options.requests - accepted} non-202 (${JSON.stringify(Object.fromEntries(statuses))})`,
      `  accepted requests/s:      ${fmt(accepted / sendSeconds)}`,
      `  ack latency p50/p95/p99:  ${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 95))} / ${fmt(percentile(latencies, 99))} ms`,
      `  all processed after:      ${fmt(drainSeconds)} s (sending took ${fmt(sendSeconds)} s)`,
      `  processing throughput:    ${fmt(accepted / drainSeconds)} webhooks/s`,
      `  final statuses:           ${JSON.stringify(summary.byStatus)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stack.stop();
  }
}
