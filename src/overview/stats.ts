import type { Queryable } from '../platform/db/pool';

/**
 * Aggregates behind the console's overview: hourly counts and latency percentiles, computed in
 * SQL so the console never pages through raw rows. Windows are whole hours ending with the
 * current one; every hour appears, empty ones with zeros.
 */

/** Outcome groups for deliveries. Statuses not listed here (new ones included) count as in progress. */
export const DELIVERY_OUTCOMES = {
  succeeded: ['succeeded'],
  failed: ['failed', 'abandoned', 'dead'],
  held: ['held', 'paused'],
} as const;

export type DeliveryOutcome = keyof typeof DELIVERY_OUTCOMES | 'in_progress';

const outcomeCase = `CASE
  WHEN status = ANY('{${DELIVERY_OUTCOMES.succeeded.join(',')}}') THEN 'succeeded'
  WHEN status = ANY('{${DELIVERY_OUTCOMES.failed.join(',')}}') THEN 'failed'
  WHEN status = ANY('{${DELIVERY_OUTCOMES.held.join(',')}}') THEN 'held'
  ELSE 'in_progress' END`;

const windowStart = `date_trunc('hour', now()) - ($1::int - 1) * interval '1 hour'`;
const hourSeries = `SELECT generate_series(${windowStart}, date_trunc('hour', now()), interval '1 hour') AS start`;

export interface LatencyPercentiles {
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface DeliveryCounts {
  succeeded: number;
  failed: number;
  held: number;
  inProgress: number;
}

export interface DeliveryHour extends DeliveryCounts, LatencyPercentiles {
  start: Date;
}

export interface WebhookDeliveryTotals extends DeliveryCounts, LatencyPercentiles {
  webhookId: string;
  name: string;
}

// Latency is from the delivery being created (the event reaching the webhook) to its success.
const aggregates = `
  count(*) FILTER (WHERE outcome = 'succeeded')::int AS succeeded,
  count(*) FILTER (WHERE outcome = 'failed')::int AS failed,
  count(*) FILTER (WHERE outcome = 'held')::int AS held,
  count(*) FILTER (WHERE outcome = 'in_progress')::int AS in_progress,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99`;

const deliveriesInWindow = `
  SELECT webhook_id, date_trunc('hour', created_at) AS start, ${outcomeCase} AS outcome,
    CASE WHEN status = 'succeeded' AND finished_at IS NOT NULL
      THEN extract(epoch FROM finished_at - created_at) * 1000 END AS latency_ms
  FROM deliveries
  WHERE created_at >= ${windowStart} AND ($2::uuid IS NULL OR webhook_id = $2)`;

interface AggregateRow {
  succeeded: number;
  failed: number;
  held: number;
  in_progress: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const round = (v: number | null) => (v === null ? null : Math.round(v));
const present = (r: AggregateRow): DeliveryCounts & LatencyPercentiles => ({
  succeeded: r.succeeded,
  failed: r.failed,
  held: r.held,
  inProgress: r.in_progress,
  p50Ms: round(r.p50),
  p95Ms: round(r.p95),
  p99Ms: round(r.p99),
});

/** Deliveries per hour by outcome with latency percentiles, in total and per webhook (busiest first). */
export async function deliveryStats(
  db: Queryable,
  q: { hours: number; webhookId?: string | undefined; webhookLimit: number },
): Promise<{ hours: DeliveryHour[]; total: DeliveryCounts & LatencyPercentiles; webhooks: WebhookDeliveryTotals[] }> {
  // One pass over the window: grouping sets give the hourly, per-webhook and overall figures at once.
  const { rows } = await db.query<
    AggregateRow & { kind: 'hour' | 'webhook' | 'total'; start: Date; webhook_id: string; name: string }
  >(
    `WITH h AS (${hourSeries}), d AS (${deliveriesInWindow}),
     agg AS (
       SELECT grouping(start) AS no_hour, grouping(webhook_id) AS no_webhook, start, webhook_id, ${aggregates}
       FROM d GROUP BY GROUPING SETS ((start), (webhook_id), ()))
     SELECT 'hour' AS kind, h.start, NULL::uuid AS webhook_id, NULL AS name,
       coalesce(a.succeeded, 0) AS succeeded, coalesce(a.failed, 0) AS failed, coalesce(a.held, 0) AS held,
       coalesce(a.in_progress, 0) AS in_progress, a.p50, a.p95, a.p99
     FROM h LEFT JOIN agg a ON a.start = h.start AND a.no_hour = 0
     UNION ALL
     (SELECT 'webhook', NULL, a.webhook_id, w.name, a.succeeded, a.failed, a.held, a.in_progress, a.p50, a.p95, a.p99
      FROM agg a JOIN webhooks w ON w.id = a.webhook_id WHERE a.no_webhook = 0
      ORDER BY a.succeeded + a.failed + a.held + a.in_progress DESC, w.name LIMIT $3)
     UNION ALL
     SELECT 'total', NULL, NULL, NULL, succeeded, failed, held, in_progress, p50, p95, p99
     FROM agg WHERE no_hour = 1 AND no_webhook = 1`,
    [q.hours, q.webhookId ?? null, q.webhookLimit],
  );
  const total = rows.find((r) => r.kind === 'total');
  return {
    hours: rows
      .filter((r) => r.kind === 'hour')
      .sort((a, b) => a.start.getTime() - b.start.getTime())
      .map((r) => ({ start: r.start, ...present(r) })),
    total: total
      ? present(total)
      : { succeeded: 0, failed: 0, held: 0, inProgress: 0, p50Ms: null, p95Ms: null, p99Ms: null },
    webhooks: rows
      .filter((r) => r.kind === 'webhook')
      .map((r) => ({ webhookId: r.webhook_id, name: r.name, ...present(r) })),
  };
}

/** Incoming webhook statuses the overview charts; anything else is counted as `other`. */
export const INCOMING_STATUSES = ['queued', 'processing', 'succeeded', 'failed', 'stale'] as const;
export type IncomingCounts = Record<(typeof INCOMING_STATUSES)[number] | 'other', number>;

/** Incoming webhooks received per hour, by their current status. */
export async function incomingStats(
  db: Queryable,
  q: { hours: number; integrationId?: string | undefined },
): Promise<{ hours: Array<IncomingCounts & { start: Date }>; total: IncomingCounts }> {
  const known = `'{${INCOMING_STATUSES.join(',')}}'`;
  const counts = [...INCOMING_STATUSES]
    .map((s) => `count(w.status) FILTER (WHERE w.status = '${s}')::int AS ${s}`)
    .concat(`count(w.status) FILTER (WHERE NOT (w.status = ANY(${known})))::int AS other`)
    .join(', ');
  const inWindow = `SELECT date_trunc('hour', received_at) AS start, status FROM incoming_webhooks
    WHERE received_at >= ${windowStart} AND ($2::uuid IS NULL OR integration_id = $2)`;
  const params = [q.hours, q.integrationId ?? null];
  const { rows } = await db.query<IncomingCounts & { start: Date }>(
    `WITH h AS (${hourSeries}), w AS (${inWindow})
     SELECT h.start, ${counts} FROM h LEFT JOIN w ON w.start = h.start GROUP BY h.start ORDER BY h.start`,
    params,
  );
  const total = Object.fromEntries(
    [...INCOMING_STATUSES, 'other'].map((s) => [s, rows.reduce((n, r) => n + r[s as keyof IncomingCounts], 0)]),
  ) as IncomingCounts;
  return { hours: rows, total };
}

export interface MailboxExpiry {
  id: string;
  name: string;
  emailAddress: string | null;
  method: string;
  subscriptionStatus: string;
  expiresAt: Date | null;
  secondsToExpiry: number | null;
  renewedAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

/** Every mailbox with its subscription's time to expiry, soonest first (scan mailboxes have none). */
export async function mailboxExpiries(db: Queryable, limit: number): Promise<MailboxExpiry[]> {
  const { rows } = await db.query<MailboxExpiry>(
    `SELECT id, name, email_address AS "emailAddress", method, subscription_status AS "subscriptionStatus",
       subscription_expires_at AS "expiresAt",
       floor(extract(epoch FROM subscription_expires_at - now()))::int AS "secondsToExpiry",
       subscription_renewed_at AS "renewedAt", last_error AS "lastError", last_error_at AS "lastErrorAt"
     FROM mailboxes ORDER BY subscription_expires_at NULLS LAST, name, id LIMIT $1`,
    [limit],
  );
  return rows;
}
