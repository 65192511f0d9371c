import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { signStandardWebhook } from '../test/emulators/webhook-sender';
import { loadConfig } from '../src/platform/config';
import { createPool } from '../src/platform/db/pool';
import { pruneBatch } from '../src/retention/db';
import { cutoffs, retentionSettings } from '../src/retention/settings';
import { fmt, percentile, startEmbeddedStack } from './lib';

/**
 * Ingress latency with and without retention pruning: seeds old rows (inbound requests, incoming
 * webhooks with attempts, events), measures generic-ingress ack latency idle, then again while
 * the same batched pruning the `retention` workflow runs (RETENTION_BATCH_SIZE / _PAUSE) works
 * through them.
 */
export async function benchRetention(options: {
  rows: number;
  requests: number;
  connections: number;
  batchSize: number;
  pauseMs: number;
}): Promise<void> {
  // The schedule is off: the benchmark drives pruning itself, at a known moment.
  const say = (line: string) => process.stderr.write(`[retention bench] ${line}\n`);
  say('starting the embedded stack');
  const stack = await startEmbeddedStack({ RETENTION_INTERVAL: '0d' });
  const db = createPool(stack.databaseUrl, 4);
  try {
    const integration = await stack.call('POST', '/api/v1/integrations', {
      provider: 'generic',
      name: 'bench',
      processingMethod: 'service_immediate',
    });
    say(`seeding ${options.rows} old rows`);
    const seedStarted = performance.now();
    const third = Math.floor(options.rows / 3);
    const old = "now() - interval '120 days'";
    await db.query(
      `INSERT INTO inbound_requests (integration_id, provider, method, path, headers, body, body_bytes, response_status, outcome, received_at)
       SELECT $1, 'generic', 'POST', '/hooks/generic/old', '{"content-type":"application/json"}', repeat('x', 512), 512, 202, 'accepted', ${old} - g * interval '1 second'
       FROM generate_series(1, $2) g`,
      [integration.id, third],
    );
    await db.query(
      `INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, processing_method, status, attempts_allowed, workflow_id, payload, received_at)
       SELECT gen_random_uuid(), $1, 'generic', 'old-' || g, 'service_immediate', 'succeeded', 3, 'old-' || g, repeat('y', 512), ${old} - g * interval '1 second'
       FROM generate_series(1, $2) g`,
      [integration.id, third],
    );
    await db.query(
      `INSERT INTO events (id, type, object_type, object_id, data, occurred_at, created_at)
       SELECT gen_random_uuid(), 'ticket.changed', 'ticket', g::text, '{"fields":{}}', ${old}, ${old} - g * interval '1 second'
       FROM generate_series(1, $1) g`,
      [options.rows - 2 * third],
    );
    await db.query('ANALYZE');
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const url = `${stack.apiUrl}/hooks/generic/${integration.id}`;
    const measure = async () => {
      const latencies: number[] = [];
      let accepted = 0;
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
                  ...signStandardWebhook(body, integration.signingSecret),
                },
              };
            },
          },
        ],
      }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
      void instance.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
        latencies.push(ms);
        if (status === 202) accepted++;
      });
      await instance;
      latencies.sort((a, b) => a - b);
      return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), accepted };
    };

    say('warm-up, then idle measurement');
    await measure(); // warm-up: JIT, connection pools, Temporal task queue
    const idle = await measure();

    say(`idle p50/p99 ${fmt(idle.p50)} / ${fmt(idle.p99)} ms; measuring while pruning`);
    const settings = {
      ...retentionSettings(loadConfig({})),
      batchSize: options.batchSize,
      batchPauseMs: options.pauseMs,
    };
    let pruned = 0;
    let pruning = true;
    const pruneStarted = performance.now();
    const pruner = (async () => {
      for (const { log, cutoff } of cutoffs(settings, new Date())) {
        for (;;) {
          const n = await pruneBatch(db, log, cutoff, settings.batchSize, null);
          pruned += n;
          if (n < settings.batchSize) break;
          if (settings.batchPauseMs > 0) await sleep(settings.batchPauseMs);
        }
      }
      pruning = false;
    })();
    const busy = await measure();
    const prunedDuringMeasure = pruned;
    const stillPruning = pruning;
    say(`pruning p50/p99 ${fmt(busy.p50)} / ${fmt(busy.p99)} ms; waiting for pruning to finish`);
    await pruner;
    const pruneSeconds = (performance.now() - pruneStarted) / 1000;

    const lines = [
      `retention benchmark: ${options.rows} old rows seeded in ${fmt(seedSeconds)} s; ${options.requests} generic webhooks per phase, ${options.connections} connections`,
      `  pruning: batches of ${options.batchSize}, ${options.pauseMs} ms pause; ${pruned} rows pruned in ${fmt(pruneSeconds)} s (${fmt(pruned / pruneSeconds, 0)} rows/s)`,
      `  ack latency idle     p50/p99: ${fmt(idle.p50)} / ${fmt(idle.p99)} ms (${idle.accepted} accepted)`,
      `  ack latency pruning  p50/p99: ${fmt(busy.p50)} / ${fmt(busy.p99)} ms (${busy.accepted} accepted; ${prunedDuringMeasure} rows pruned meanwhile${stillPruning ? ', pruning continued after' : ''})`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stdout.write(
      `BENCH_JSON ${JSON.stringify({
        bench: 'retention',
        seeded_rows: options.rows,
        requests_per_phase: options.requests,
        connections: options.connections,
        batch_size: options.batchSize,
        batch_pause_ms: options.pauseMs,
        rows_pruned: pruned,
        rows_pruned_during_measure: prunedDuringMeasure,
        prune_seconds: Number(pruneSeconds.toFixed(2)),
        idle_ack_p50_ms: idle.p50,
        idle_ack_p99_ms: idle.p99,
        pruning_ack_p50_ms: busy.p50,
        pruning_ack_p99_ms: busy.p99,
      })}\n`,
    );
  } finally {
    await db.end();
    await stack.stop();
  }
}
