import client from 'prom-client';
import type { RequestHandler } from 'express';
import type { Queryable } from '../db/pool';
import { retentionMetrics } from './retention-metrics';

/**
 * Prometheus metrics served by the API at /metrics. HTTP and ingress figures are counted in
 * process; figures produced by workers (deliveries, attempts, emails…) are read from PostgreSQL
 * at scrape time.
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'switchyard_process_' });

export const httpRequests = new client.Counter({
  name: 'switchyard_http_requests_total',
  help: 'HTTP requests by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new client.Histogram({
  name: 'switchyard_http_request_duration_seconds',
  help: 'HTTP request duration by method and route pattern',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const webhooksReceived = new client.Counter({
  name: 'switchyard_webhooks_received_total',
  help: 'Incoming webhook requests by provider and outcome (accepted, duplicate, rejected)',
  labelNames: ['provider', 'outcome'] as const,
  registers: [registry],
});

/** The route pattern (`/api/v1/webhooks/:id`), never the raw path: raw paths would explode label cardinality. */
function routeLabel(req: Parameters<RequestHandler>[0]): string {
  const route = (req as { route?: { path?: string } }).route?.path;
  if (!route) return req.baseUrl ? `${req.baseUrl}/*` : 'unmatched';
  return `${req.baseUrl}${route === '/' ? '' : route}` || '/';
}

export const httpMetrics: RequestHandler = (req, res, next) => {
  const stop = httpDuration.startTimer();
  res.on('finish', () => {
    const route = routeLabel(req);
    httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    stop({ method: req.method, route });
  });
  next();
};

/** One metric family as exposition text. */
function family(name: string, help: string, type: 'gauge' | 'histogram', lines: string[]): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines].join('\n');
}

const label = (v: unknown) => String(v ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ');

async function rows<T>(db: Queryable, sql: string): Promise<T[]> {
  try {
    return (await db.query(sql)).rows as T[];
  } catch {
    // A table that does not exist yet (older schema) or a database blip leaves the family empty.
    return [];
  }
}

const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

/**
 * What workers did, read from PostgreSQL at scrape time: every API replica reports the same
 * totals whichever worker did the work.
 */
async function databaseMetrics(db: Queryable): Promise<string> {
  const [incoming, deliveries, attempts, batches, calls, limited, subscriptions, emails] = await Promise.all([
    rows<{ provider: string; status: string; n: number }>(db, 'SELECT provider, status, count(*)::int AS n FROM incoming_webhooks GROUP BY 1, 2'),
    rows<{ status: string; n: number }>(db, 'SELECT status, count(*)::int AS n FROM deliveries GROUP BY 1'),
    rows<{ status: string; n: number }>(db, 'SELECT status, count(*)::int AS n FROM delivery_attempts GROUP BY 1'),
    rows<Record<string, number>>(
      db,
      `SELECT count(*)::int AS count, coalesce(sum(item_count), 0)::int AS sum,
        ${BATCH_BUCKETS.map((b) => `count(*) FILTER (WHERE item_count <= ${b})::int AS le_${b}`).join(', ')}
       FROM deliveries WHERE group_key IS NOT NULL`,
    ),
    rows<{ key: string; n: number }>(db, "SELECT key, count(*)::int AS n FROM provider_rate_calls WHERE at > now() - interval '1 minute' GROUP BY 1"),
    rows<{ key: string; reason: string | null }>(db, 'SELECT key, blocked_reason AS reason FROM provider_rate_budgets WHERE blocked_until > now()'),
    rows<{ id: string; name: string; seconds: number }>(
      db,
      `SELECT id, name, extract(epoch FROM subscription_expires_at - now())::float AS seconds
         FROM mailboxes WHERE subscription_expires_at IS NOT NULL`,
    ),
    rows<{ status: string; n: number }>(db, 'SELECT status, count(*)::int AS n FROM inbound_mail GROUP BY 1'),
  ]);
  const b = batches[0];
  return [
    family('switchyard_incoming_webhooks', 'Incoming webhooks stored, by provider and status', 'gauge',
      incoming.map((r) => `switchyard_incoming_webhooks{provider="${label(r.provider)}",status="${label(r.status)}"} ${r.n}`)),
    family('switchyard_deliveries', 'Outgoing deliveries by outcome (status)', 'gauge',
      deliveries.map((r) => `switchyard_deliveries{status="${label(r.status)}"} ${r.n}`)),
    family('switchyard_delivery_attempts', 'Outgoing delivery attempts by result', 'gauge',
      attempts.map((r) => `switchyard_delivery_attempts{status="${label(r.status)}"} ${r.n}`)),
    family('switchyard_batch_size', 'Items per batched delivery', 'histogram', b
      ? [
          ...BATCH_BUCKETS.map((k) => `switchyard_batch_size_bucket{le="${k}"} ${b[`le_${k}`] ?? 0}`),
          `switchyard_batch_size_bucket{le="+Inf"} ${b['count'] ?? 0}`,
          `switchyard_batch_size_sum ${b['sum'] ?? 0}`,
          `switchyard_batch_size_count ${b['count'] ?? 0}`,
        ]
      : []),
    family('switchyard_provider_api_calls_last_minute', 'Provider API calls in the last minute per rate budget (tenant/realm)', 'gauge',
      calls.map((r) => `switchyard_provider_api_calls_last_minute{budget="${label(r.key)}"} ${r.n}`)),
    family('switchyard_provider_rate_limited', 'Rate budgets currently blocked after a provider 429', 'gauge',
      limited.map((r) => `switchyard_provider_rate_limited{budget="${label(r.key)}",reason="${label(r.reason)}"} 1`)),
    family('switchyard_mailbox_subscription_seconds_to_expiry', 'Seconds until a mailbox Graph subscription expires', 'gauge',
      subscriptions.map((r) => `switchyard_mailbox_subscription_seconds_to_expiry{mailbox_id="${label(r.id)}",mailbox="${label(r.name)}"} ${Math.round(r.seconds)}`)),
    family('switchyard_emails', 'Emails seen by mailboxes, by processing status', 'gauge',
      emails.map((r) => `switchyard_emails{status="${label(r.status)}"} ${r.n}`)),
  ].join('\n');
}

/** The Temporal SDK's own worker metrics, when a worker exports them (WORKER_METRICS_ADDRESS). */
async function sdkMetrics(address: string): Promise<string> {
  if (!address) return '';
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

/** The exposition text: in-process metrics, database-derived metrics, then the SDK's worker metrics. */
export async function renderMetrics(db: Queryable, config: { WORKER_METRICS_ADDRESS: string }): Promise<string> {
  const [own, fromDb, retention, sdk] = await Promise.all([
    registry.metrics(),
    databaseMetrics(db),
    retentionMetrics(db),
    sdkMetrics(config.WORKER_METRICS_ADDRESS),
  ]);
  return [own, fromDb, retention, sdk].filter(Boolean).join('\n') + '\n';
}
