import { type Keyset, type WithKeyset, keysetBefore, keysetColumn } from '../../platform/db/keyset';
import { DEFAULT_LIMITS, type WebhookSettings } from '../webhook-config';
import type { Queryable } from '../../platform/db/pool';

/** The parts of a webhook's settings kept in one jsonb column. */
type WebhookConfigColumn = Pick<WebhookSettings, 'type' | 'method' | 'auth' | 'payload' | 'events' | 'batching'> &
  Partial<Pick<WebhookSettings, 'concurrencyLimit' | 'rateLimitPerSecond' | 'strictOrdering'>>;

export interface WebhookRow {
  id: string;
  name: string;
  url: string;
  config: WebhookConfigColumn;
  event_types: string[];
  lightweight_logs: boolean;
  enabled: boolean;
  auto_disable_threshold: number;
  consecutive_failures: number;
  disabled_reason: string | null;
  disabled_at: Date | null;
  disabled_by_delivery: string | null;
  secrets_enc: string;
  created_at: Date;
  updated_at: Date;
}

/** The settings a row holds, in the shape validation and dispatch use. */
export function rowSettings(row: WebhookRow): Readonly<WebhookSettings> {
  let s = settingsOfRow.get(row);
  if (!s) {
    s = Object.freeze({
      ...DEFAULT_LIMITS,
      ...row.config,
      name: row.name,
      url: row.url,
      lightweightLogs: row.lightweight_logs,
      enabled: row.enabled,
      autoDisableThreshold: row.auto_disable_threshold,
    });
    settingsOfRow.set(row, s);
  }
  return s;
}

/**
 * Settings are worked out once per row read: a lane asks for them on every pass and every
 * attempt, and planning for every event. Frozen, since they are shared.
 */
const settingsOfRow = new WeakMap<WebhookRow, Readonly<WebhookSettings>>();

function columns(s: WebhookSettings) {
  const config: WebhookConfigColumn = {
    type: s.type,
    method: s.method,
    auth: s.auth,
    payload: s.payload,
    events: s.events,
    batching: s.batching,
    concurrencyLimit: s.concurrencyLimit,
    rateLimitPerSecond: s.rateLimitPerSecond,
    strictOrdering: s.strictOrdering,
  };
  return [
    s.name,
    s.url,
    JSON.stringify(config),
    s.events.map((e) => e.type),
    s.lightweightLogs,
    s.enabled,
    s.autoDisableThreshold,
  ];
}

export async function insertWebhook(
  db: Queryable,
  id: string,
  s: WebhookSettings,
  secretsEnc: string,
): Promise<WebhookRow> {
  const { rows } = await db.query<WebhookRow>(
    `INSERT INTO webhooks (id, name, url, config, event_types, lightweight_logs, enabled, auto_disable_threshold, secrets_enc,
       disabled_reason, disabled_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $7 THEN NULL ELSE 'manual' END, CASE WHEN $7 THEN NULL ELSE now() END)
     RETURNING *`,
    [id, ...columns(s), secretsEnc],
  );
  return rows[0]!;
}

export async function getWebhook(
  db: Queryable,
  id: string,
  lock?: 'update' | 'share',
): Promise<WebhookRow | undefined> {
  const suffix = lock === 'update' ? ' FOR UPDATE' : lock === 'share' ? ' FOR SHARE' : '';
  const { rows } = await db.query<WebhookRow>(`SELECT * FROM webhooks WHERE id = $1${suffix}`, [id]);
  return rows[0];
}

export async function listWebhooks(
  db: Queryable,
  f: { before?: Keyset | undefined; limit: number },
): Promise<WithKeyset<WebhookRow>[]> {
  const args: unknown[] = [];
  const where = f.before
    ? `WHERE ${keysetBefore('created_at', 'id', 'uuid', f.before, (v) => `$${args.push(v)}`)}`
    : '';
  const { rows } = await db.query<WithKeyset<WebhookRow>>(
    `SELECT *, ${keysetColumn('created_at')} FROM webhooks ${where} ORDER BY created_at DESC, id DESC LIMIT $${args.push(f.limit)}`,
    args,
  );
  return rows;
}

/**
 * Saves new settings. Enabling clears the failure streak and the disabled reason; disabling
 * by hand records "manual" unless the webhook was already disabled for another reason.
 */
export async function updateWebhook(
  db: Queryable,
  id: string,
  s: WebhookSettings,
  secretsEnc?: string,
): Promise<WebhookRow> {
  const { rows } = await db.query<WebhookRow>(
    `UPDATE webhooks SET name = $2, url = $3, config = $4, event_types = $5, lightweight_logs = $6,
       auto_disable_threshold = $8, secrets_enc = COALESCE($9, secrets_enc),
       consecutive_failures = CASE WHEN $7 AND NOT enabled THEN 0 ELSE consecutive_failures END,
       disabled_reason = CASE WHEN $7 THEN NULL WHEN enabled THEN 'manual' ELSE disabled_reason END,
       disabled_at = CASE WHEN $7 THEN NULL WHEN enabled THEN now() ELSE disabled_at END,
       disabled_by_delivery = CASE WHEN $7 THEN NULL ELSE disabled_by_delivery END,
       enabled = $7, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, ...columns(s), secretsEnc ?? null],
  );
  return rows[0]!;
}

export async function setWebhookSecrets(db: Queryable, id: string, secretsEnc: string): Promise<void> {
  await db.query('UPDATE webhooks SET secrets_enc = $2, updated_at = now() WHERE id = $1', [id, secretsEnc]);
}

export async function deleteWebhook(db: Queryable, id: string): Promise<boolean> {
  const res = await db.query('DELETE FROM webhooks WHERE id = $1', [id]);
  return (res.rowCount ?? 0) > 0;
}

/** Webhooks subscribed to an event type, enabled or not (disabled ones hold their deliveries). */
export async function webhooksForEventType(db: Queryable, eventType: string): Promise<WebhookRow[]> {
  const { rows } = await db.query<WebhookRow>(
    'SELECT * FROM webhooks WHERE event_types @> ARRAY[$1]::text[] ORDER BY id',
    [eventType],
  );
  return rows;
}

/** Webhooks subscribed to any of these event types (`webhooksForEventType` for a batch of events). */
export async function webhooksForEventTypes(db: Queryable, eventTypes: string[]): Promise<WebhookRow[]> {
  const { rows } = await db.query<WebhookRow>('SELECT * FROM webhooks WHERE event_types && $1::text[] ORDER BY id', [
    eventTypes,
  ]);
  return rows;
}

/**
 * Counts one more failed delivery and disables the webhook when the streak reaches its
 * threshold (0 = never). Returns whether this call disabled it.
 */
export async function countFailedDelivery(db: Queryable, id: string, deliveryId: string): Promise<boolean> {
  const { rows } = await db.query<{ trip: boolean }>(
    `WITH s AS (
       SELECT id, enabled AND auto_disable_threshold > 0 AND consecutive_failures + 1 >= auto_disable_threshold AS trip
       FROM webhooks WHERE id = $1 FOR UPDATE)
     UPDATE webhooks w SET consecutive_failures = w.consecutive_failures + 1,
       enabled = w.enabled AND NOT s.trip,
       disabled_reason = CASE WHEN s.trip THEN 'auto_disabled' ELSE w.disabled_reason END,
       disabled_at = CASE WHEN s.trip THEN now() ELSE w.disabled_at END,
       disabled_by_delivery = CASE WHEN s.trip THEN $2::uuid ELSE w.disabled_by_delivery END
     FROM s WHERE w.id = s.id RETURNING s.trip`,
    [id, deliveryId],
  );
  return rows[0]?.trip ?? false;
}

/** Disables the webhook because a delivery was answered 410 Gone; returns whether this call disabled it. */
export async function disableWebhookGone(db: Queryable, id: string, deliveryId: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE webhooks SET enabled = false, disabled_reason = 'gone', disabled_at = now(), disabled_by_delivery = $2
     WHERE id = $1 AND enabled`,
    [id, deliveryId],
  );
  return (res.rowCount ?? 0) > 0;
}
