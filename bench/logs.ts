import pg from 'pg';
import { fmt, median, startEmbeddedStack } from './lib';

/**
 * The browsable logs at size: seeds 100,000 incoming webhooks, 100,000 inbound requests and
 * 100,000 deliveries, then times the API calls the console makes (first page, filters, a deep
 * page reached through cursors, one record).
 */
export async function benchLogs(options: { rows: number; samples: number }): Promise<void> {
  const stack = await startEmbeddedStack();
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const integration = await stack.call('POST', '/api/v1/integrations', { provider: 'generic', name: 'bench' });
    const webhook = await stack.call('POST', '/api/v1/webhooks', {
      name: 'bench',
      url: 'https://example.com/hook',
      events: [{ type: 'Ticket Changed' }],
    });
    const seeded = performance.now();
    await db.query(
      `INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, event_type, entity_id, processing_method,
         status, attempts_allowed, attempts_made, workflow_id, payload, received_at)
       SELECT gen_random_uuid(), $1, 'generic', 'k' || g, 'Ticket Changed', 'T-' || (g % 5000),
         'default', (ARRAY['succeeded','failed','queued','stale'])[1 + g % 4], 1, 1, 'inbound:x:' || g,
         '{"type":"Ticket Changed"}', now() - (g || ' seconds')::interval
       FROM generate_series(1, $2::int) g`,
      [integration.id, options.rows],
    );
    await db.query(
      `INSERT INTO inbound_requests (integration_id, provider, method, path, headers, body, body_bytes, response_status, outcome, received_at)
       SELECT $1, 'generic', 'POST', '/hooks/generic/x', '{}', '{}', 2, 202, 'accepted', now() - (g || ' seconds')::interval
       FROM generate_series(1, $2::int) g`,
      [integration.id, options.rows],
    );
    await db.query(
      `INSERT INTO deliveries (id, webhook_id, group_key, event_type, object_id, workflow_id, status, lightweight, created_at)
       SELECT gen_random_uuid(), $1, 'g' || g, 'ticket.changed', 'T-' || g, 'delivery:x:' || g,
         (ARRAY['succeeded','failed','retrying','held'])[1 + g % 4], false, now() - (g || ' seconds')::interval
       FROM generate_series(1, $2::int) g`,
      [webhook.id, options.rows],
    );
    await db.query('ANALYZE');
    const seedSeconds = (performance.now() - seeded) / 1000;

    const time = async (path: string) => {
      const samples: number[] = [];
      for (let i = 0; i < options.samples; i++) {
        const t = performance.now();
        await stack.call('GET', path);
        samples.push(performance.now() - t);
      }
      return median(samples);
    };
    const deepCursor = async (base: string) => {
      let cursor: string | null = null;
      for (let i = 0; i < 50; i++) {
        const page: { nextCursor: string | null } = await stack.call(
          'GET',
          `${base}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        cursor = page.nextCursor;
      }
      return cursor;
    };
    const incomingDeep = await deepCursor(`/api/v1/incoming-webhooks?limit=50`);
    const deliveriesDeep = await deepCursor(`/api/v1/webhooks/${webhook.id}/deliveries?limit=50`);
    const first = await stack.call('GET', '/api/v1/incoming-webhooks?limit=1');
    // [label, BENCH_JSON key, median ms]
    const results: Array<[string, string, number]> = [
      [
        'incoming webhook log, first page (50)',
        'incoming_first_page_ms',
        await time('/api/v1/incoming-webhooks?limit=50'),
      ],
      [
        'incoming webhook log, status=failed',
        'incoming_status_filter_ms',
        await time('/api/v1/incoming-webhooks?limit=50&status=failed'),
      ],
      [
        'incoming webhook log, entityId filter',
        'incoming_entity_filter_ms',
        await time('/api/v1/incoming-webhooks?limit=50&entityId=T-42'),
      ],
      [
        'incoming webhook log, page 51 (cursor)',
        'incoming_deep_page_ms',
        await time(`/api/v1/incoming-webhooks?limit=50&cursor=${incomingDeep}`),
      ],
      ['incoming webhook detail', 'incoming_detail_ms', await time(`/api/v1/incoming-webhooks/${first.data[0].id}`)],
      [
        'inbound requests, first page',
        'inbound_requests_first_page_ms',
        await time(`/api/v1/inbound-requests?limit=50&integrationId=${integration.id}`),
      ],
      [
        'deliveries log, first page',
        'deliveries_first_page_ms',
        await time(`/api/v1/webhooks/${webhook.id}/deliveries?limit=50`),
      ],
      [
        'deliveries log, status=failed',
        'deliveries_status_filter_ms',
        await time(`/api/v1/webhooks/${webhook.id}/deliveries?limit=50&status=failed`),
      ],
      [
        'deliveries log, page 51 (cursor)',
        'deliveries_deep_page_ms',
        await time(`/api/v1/webhooks/${webhook.id}/deliveries?limit=50&cursor=${deliveriesDeep}`),
      ],
      ['incoming summary (counts by status)', 'incoming_summary_ms', await time('/api/v1/incoming-webhooks/summary')],
    ];
    process.stdout.write(
      [
        `logs benchmark: ${options.rows} rows each in incoming_webhooks, inbound_requests, deliveries (seeded in ${fmt(seedSeconds)} s)`,
        `median of ${options.samples} requests each:`,
        ...results.map(([name, , ms]) => `  ${name.padEnd(42)} ${fmt(ms)} ms`),
      ].join('\n') + '\n',
    );
    const json = {
      rows: options.rows,
      samples: options.samples,
      seed_seconds: Number(seedSeconds.toFixed(1)),
      ...Object.fromEntries(results.map(([, key, ms]) => [key, Number(ms.toFixed(1))])),
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await db.end();
    await stack.stop();
  }
}
