import client from 'prom-client';
import type { RequestHandler } from 'express';
import type { Queryable } from '../db/pool';
import { intakeBacklog } from '../intake/jobs';

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

const webhooksReceivedCounter = new client.Counter({
  name: 'switchyard_webhooks_received_total',
  help: 'Incoming webhook requests by provider and outcome (accepted, duplicate, rejected, rate_limited)',
  labelNames: ['provider', 'outcome'] as const,
  registers: [registry],
});

/**
 * Label values come from fixed sets only: anything else is `unknown`, so no request can mint
 * a new series (a provider taken from a URL, an identifier) and cardinality stays bounded.
 */
export const KNOWN_PROVIDERS = ['generic', 'xero', 'quickbooks', 'graph'] as const;
const KNOWN_OUTCOMES = ['accepted', 'duplicate', 'rejected', 'rate_limited'] as const;
const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const oneOf = <T extends string>(set: readonly T[], v: unknown): T | 'unknown' =>
  set.includes(v as T) ? (v as T) : 'unknown';

/** A provider name from a fixed set, or `unknown`. */
export const providerLabel = (v: unknown) => oneOf(KNOWN_PROVIDERS, v);

/** Incoming webhook requests by provider and outcome, both from fixed sets. */
export const webhooksReceived = {
  inc(labels: { provider: string; outcome: string }): void {
    webhooksReceivedCounter.inc({
      provider: providerLabel(labels.provider),
      outcome: oneOf(KNOWN_OUTCOMES, labels.outcome),
    });
  },
};

/** The route pattern (`/api/v1/webhooks/:id`), never the raw path: raw paths would explode label cardinality. */
function routeLabel(req: Parameters<RequestHandler>[0]): string {
  const route = (req as { route?: { path?: unknown } }).route?.path;
  // Mount paths are static (no parameters), so baseUrl is a pattern too; a path with no route is not.
  if (typeof route !== 'string') return 'unmatched';
  return `${req.baseUrl}${route === '/' ? '' : route}` || '/';
}

export const httpMetrics: RequestHandler = (req, res, next) => {
  const stop = httpDuration.startTimer();
  res.on('finish', () => {
    const route = routeLabel(req);
    const method = oneOf(KNOWN_METHODS, req.method);
    httpRequests.inc({ method, route, status: String(res.statusCode) });
    stop({ method, route });
  });
  next();
};

/** One metric family as exposition text. */
function family(name: string, help: string, type: 'gauge' | 'histogram', lines: string[]): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines].join('\n');
}

const label = (v: unknown) =>
  String(v ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, ' ');

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
  const [incoming, deliveries, attempts, batches, calls, limited, subscriptions, emails, backlog] = await Promise.all([
    rows<{ provider: string; status: string; n: number }>(
      db,
      'SELECT provider, status, count(*)::int AS n FROM incoming_webhooks GROUP BY 1, 2',
    ),
    rows<{ status: string; n: number }>(db, 'SELECT status, count(*)::int AS n FROM deliveries GROUP BY 1'),
    rows<{ status: string; n: number }>(db, 'SELECT status, count(*)::int AS n FROM delivery_attempts GROUP BY 1'),
    rows<Record<string, number>>(
      db,
      `SELECT count(*)::int AS count, coalesce(sum(item_count), 0)::int AS sum,
        ${BATCH_BUCKETS.map((b) => `count(*) FILTER (WHERE item_count <= ${b})::int AS le_${b}`).join(', ')}
       FROM deliveries WHERE group_key IS NOT NULL`,
    ),
    // Budget keys hold tenant and realm ids: only their provider prefix becomes a label.
    rows<{ key: string; n: number }>(
      db,
      "SELECT split_part(key, ':', 1) AS key, count(*)::int AS n FROM provider_rate_calls WHERE at > now() - interval '1 minute' GROUP BY 1",
    ),
    rows<{ key: string; n: number }>(
      db,
      "SELECT split_part(key, ':', 1) AS key, count(*)::int AS n FROM provider_rate_budgets WHERE blocked_until > now() GROUP BY 1",
    ),
    // No mailbox ids or names as labels: the soonest expiry and how many subscriptions there are.
    rows<{ n: number; seconds: number | null }>(
      db,
      `SELECT count(*)::int AS n, min(extract(epoch FROM subscription_expires_at - now()))::float AS seconds
         FROM mailboxes WHERE subscription_expires_at IS NOT NULL`,
    ),
    rows<{ status: string; n: number }>(db, 'SELECT status, count(*)::int AS n FROM inbound_mail GROUP BY 1'),
    intakeBacklog(db),
  ]);
  const b = batches[0];
  return [
    family(
      'switchyard_incoming_webhooks',
      'Incoming webhooks stored, by provider and status',
      'gauge',
      incoming.map(
        (r) =>
          `switchyard_incoming_webhooks{provider="${providerLabel(r.provider)}",status="${label(r.status)}"} ${r.n}`,
      ),
    ),
    family(
      'switchyard_deliveries',
      'Outgoing deliveries by outcome (status)',
      'gauge',
      deliveries.map((r) => `switchyard_deliveries{status="${label(r.status)}"} ${r.n}`),
    ),
    family(
      'switchyard_delivery_attempts',
      'Outgoing delivery attempts by result',
      'gauge',
      attempts.map((r) => `switchyard_delivery_attempts{status="${label(r.status)}"} ${r.n}`),
    ),
    family(
      'switchyard_batch_size',
      'Items per batched delivery',
      'histogram',
      b
        ? [
            ...BATCH_BUCKETS.map((k) => `switchyard_batch_size_bucket{le="${k}"} ${b[`le_${k}`] ?? 0}`),
            `switchyard_batch_size_bucket{le="+Inf"} ${b['count'] ?? 0}`,
            `switchyard_batch_size_sum ${b['sum'] ?? 0}`,
            `switchyard_batch_size_count ${b['count'] ?? 0}`,
          ]
        : [],
    ),
    family(
      'switchyard_provider_api_calls_last_minute',
      'Provider API calls in the last minute, by provider',
      'gauge',
      calls.map((r) => `switchyard_provider_api_calls_last_minute{provider="${providerLabel(r.key)}"} ${r.n}`),
    ),
    family(
      'switchyard_provider_rate_limited',
      'Rate budgets (tenants/realms) currently blocked after a provider 429, by provider',
      'gauge',
      limited.map((r) => `switchyard_provider_rate_limited{provider="${providerLabel(r.key)}"} ${r.n}`),
    ),
    family(
      'switchyard_mailbox_subscription_seconds_to_expiry',
      'Seconds until the soonest mailbox Graph subscription expires',
      'gauge',
      subscriptions
        .filter((r) => r.n > 0 && r.seconds !== null)
        .map((r) => `switchyard_mailbox_subscription_seconds_to_expiry ${Math.round(r.seconds!)}`),
    ),
    family(
      'switchyard_mailbox_subscriptions',
      'Mailboxes with a Graph subscription',
      'gauge',
      subscriptions.map((r) => `switchyard_mailbox_subscriptions ${r.n}`),
    ),
    family(
      'switchyard_emails',
      'Emails seen by mailboxes, by processing status',
      'gauge',
      emails.map((r) => `switchyard_emails{status="${label(r.status)}"} ${r.n}`),
    ),
    family('switchyard_intake_backlog', 'Committed work not yet handed to Temporal (intake outbox rows)', 'gauge', [
      `switchyard_intake_backlog ${backlog.pending}`,
    ]),
    family('switchyard_intake_oldest_age_seconds', 'Age of the oldest intake outbox row', 'gauge', [
      `switchyard_intake_oldest_age_seconds ${backlog.oldestAgeSeconds.toFixed(3)}`,
    ]),
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

const collections = new client.Counter({
  name: 'switchyard_metrics_collections_total',
  help: 'Times this process read the database-derived metrics (at most once per METRICS_CACHE_SECONDS)',
  registers: [registry],
});

/** Exposition text a capability adds to `/metrics` (the platform knows none of them by name). */
export type MetricsCollector = (db: Queryable) => Promise<string>;

/** The exposition text: in-process metrics, database-derived metrics, the capabilities' own, then the SDK's. */
export async function renderMetrics(
  db: Queryable,
  config: { WORKER_METRICS_ADDRESS: string },
  collectors: readonly MetricsCollector[] = [],
): Promise<string> {
  collections.inc();
  const [own, fromDb, sdk, ...extra] = await Promise.all([
    registry.metrics(),
    databaseMetrics(db),
    sdkMetrics(config.WORKER_METRICS_ADDRESS),
    ...collectors.map((collect) => collect(db)),
  ]);
  return [own, fromDb, ...extra, sdk].filter(Boolean).join('\n') + '\n';
}
