import type { AuthoritySetting } from '../graph/authority';
import type { Queryable } from '../../platform/db/pool';
import { ShortCache } from '../../platform/security/short-cache';

export type MailboxMethod = 'webhooks' | 'scan';
export type SubscriptionStatus = 'none' | 'creating' | 'active' | 'failed' | 'cancelled';

export interface MailboxRow {
  id: string;
  name: string;
  connection_type: string;
  tenant_id: string;
  client_id: string;
  secrets_enc: string;
  authority: AuthoritySetting;
  method: MailboxMethod;
  email_address: string | null;
  mailbox_type: 'standard' | 'shared';
  shared_mailbox: string | null;
  scan_interval_seconds: number | null;
  after_processing: 'mark_read' | 'move' | 'none';
  move_to_folder: string | null;
  error_recipients: string[];
  outgoing_default: boolean;
  /** Off: notifications are acknowledged but start nothing, scans are paused (the subscription is kept). */
  enabled: boolean;
  process_since: Date | null;
  token_cache_enc: string | null;
  connected_account: string | null;
  connected_home_account_id: string | null;
  connected_at: Date | null;
  client_state_enc: string | null;
  subscription_id: string | null;
  subscription_resource: string | null;
  subscription_status: SubscriptionStatus;
  subscription_expires_at: Date | null;
  subscription_created_at: Date | null;
  subscription_renewed_at: Date | null;
  subscription_renewals: number;
  subscription_max_minutes: number | null;
  subscription_error: string | null;
  delta_link: string | null;
  delta_synced_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Columns an administrator sets through the API. */
export type MailboxSettings = Pick<
  MailboxRow,
  | 'name'
  | 'connection_type'
  | 'tenant_id'
  | 'client_id'
  | 'secrets_enc'
  | 'authority'
  | 'method'
  | 'email_address'
  | 'mailbox_type'
  | 'shared_mailbox'
  | 'scan_interval_seconds'
  | 'after_processing'
  | 'move_to_folder'
  | 'error_recipients'
  | 'outgoing_default'
  | 'enabled'
>;

const SETTINGS_COLUMNS = [
  'name',
  'connection_type',
  'tenant_id',
  'client_id',
  'secrets_enc',
  'authority',
  'method',
  'email_address',
  'mailbox_type',
  'shared_mailbox',
  'scan_interval_seconds',
  'after_processing',
  'move_to_folder',
  'error_recipients',
  'outgoing_default',
  'enabled',
] as const satisfies ReadonlyArray<keyof MailboxSettings>;

const encode = (column: string, value: unknown) => (column === 'authority' ? JSON.stringify(value) : value);

export async function insertMailbox(db: Queryable, id: string, m: MailboxSettings): Promise<MailboxRow> {
  const values = SETTINGS_COLUMNS.map((c) => encode(c, m[c]));
  const { rows } = await db.query<MailboxRow>(
    `INSERT INTO mailboxes (id, ${SETTINGS_COLUMNS.join(', ')})
     VALUES ($1, ${SETTINGS_COLUMNS.map((_, i) => `$${i + 2}`).join(', ')}) RETURNING *`,
    [id, ...values],
  );
  return rows[0]!;
}

/** Updates the given settings (and any other listed columns); undefined fields are left alone. */
export async function updateMailbox(
  db: Queryable,
  id: string,
  patch: { [K in keyof Omit<MailboxRow, 'id' | 'created_at' | 'updated_at'>]?: MailboxRow[K] | undefined },
): Promise<MailboxRow | undefined> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return getMailbox(db, id);
  const sets = entries.map(([k], i) => `${k} = $${i + 2}`);
  const { rows } = await db.query<MailboxRow>(
    `UPDATE mailboxes SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
    [id, ...entries.map(([k, v]) => encode(k, v))],
  );
  forIngress.forget(id);
  return rows[0];
}

export async function getMailbox(db: Queryable, id: string): Promise<MailboxRow | undefined> {
  const { rows } = await db.query<MailboxRow>('SELECT * FROM mailboxes WHERE id = $1', [id]);
  return rows[0];
}

/**
 * Graph notification intake reads its mailbox on every POST: this process keeps a found one for
 * a second (a change made through this module drops it at once). The cached row may be up to a
 * second old, so intake only accepts on it: anything it would refuse is checked again on a
 * fresh read (`getMailbox`), which a just-renewed subscription's new clientState needs.
 */
const forIngress = new ShortCache<MailboxRow | undefined>(1000);

export async function getMailboxForIngress(db: Queryable, id: string): Promise<MailboxRow | undefined> {
  return forIngress.get(
    id,
    () => getMailbox(db, id),
    (row) => row !== undefined,
  );
}

export async function listMailboxes(db: Queryable): Promise<MailboxRow[]> {
  const { rows } = await db.query<MailboxRow>('SELECT * FROM mailboxes ORDER BY created_at, id');
  return rows;
}

export async function deleteMailbox(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM mailboxes WHERE id = $1', [id]);
  forIngress.forget(id);
  return (rowCount ?? 0) > 0;
}

/** The mailbox replies and notifications are sent from, if one is chosen. */
export async function getOutgoingDefault(db: Queryable): Promise<MailboxRow | undefined> {
  const { rows } = await db.query<MailboxRow>('SELECT * FROM mailboxes WHERE outgoing_default LIMIT 1');
  return rows[0];
}

/** Makes `id` the only outgoing default mailbox. */
export async function setOutgoingDefault(db: Queryable, id: string): Promise<void> {
  await db.query(
    'UPDATE mailboxes SET outgoing_default = false, updated_at = now() WHERE outgoing_default AND id <> $1',
    [id],
  );
  await db.query('UPDATE mailboxes SET outgoing_default = true, updated_at = now() WHERE id = $1', [id]);
}

/** Every address our mailboxes send from: mail from any of them is our own coming back. */
export async function ownAddresses(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ a: string }>(
    `SELECT DISTINCT lower(a) AS a FROM mailboxes,
       unnest(ARRAY[email_address, shared_mailbox, connected_account]) AS a WHERE a IS NOT NULL`,
  );
  return rows.map((r) => r.a);
}

export async function recordMailboxError(db: Queryable, id: string, error: string | null): Promise<void> {
  await db.query(
    `UPDATE mailboxes SET last_error = $2, last_error_at = CASE WHEN $2::text IS NULL THEN last_error_at ELSE now() END,
       updated_at = now() WHERE id = $1`,
    [id, error],
  );
}

/** Stores a mailbox's encrypted MSAL token cache (written by the cache plugin after every change). */
export async function saveTokenCache(db: Queryable, id: string, cacheEnc: string): Promise<void> {
  await db.query('UPDATE mailboxes SET token_cache_enc = $2 WHERE id = $1', [id, cacheEnc]);
}

export async function loadTokenCache(db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ token_cache_enc: string | null }>(
    'SELECT token_cache_enc FROM mailboxes WHERE id = $1',
    [id],
  );
  return rows[0]?.token_cache_enc ?? null;
}

export async function insertAuthRequest(
  db: Queryable,
  r: { stateHash: string; mailboxId: string; verifierEnc: string; expiresAt: Date; browserHash: string },
): Promise<void> {
  await db.query('DELETE FROM mailbox_auth_requests WHERE expires_at < now()');
  await db.query(
    `INSERT INTO mailbox_auth_requests (state_hash, mailbox_id, verifier_enc, expires_at, browser_hash)
     VALUES ($1, $2, $3, $4, $5)`,
    [r.stateHash, r.mailboxId, r.verifierEnc, r.expiresAt, r.browserHash],
  );
}

/**
 * Consumes a pending sign-in: a state is good for one callback only, and only from the browser
 * that started it. From another browser nothing is consumed ('other_browser').
 */
export async function takeAuthRequest(
  db: Queryable,
  stateHash: string,
  browserHash: string,
): Promise<{ mailbox_id: string; verifier_enc: string; expired: boolean } | 'other_browser' | undefined> {
  const { rows } = await db.query<{ mailbox_id: string; verifier_enc: string; expired: boolean }>(
    `DELETE FROM mailbox_auth_requests WHERE state_hash = $1 AND browser_hash = $2
     RETURNING mailbox_id, verifier_enc, expires_at < now() AS expired`,
    [stateHash, browserHash],
  );
  if (rows[0]) return rows[0];
  const other = await db.query('SELECT 1 FROM mailbox_auth_requests WHERE state_hash = $1', [stateHash]);
  return other.rowCount ? 'other_browser' : undefined;
}

export interface MailboxNotificationRow {
  id: string;
  mailbox_id: string;
  kind: string;
  dedupe_key: string;
  subject: string;
  message: string;
  recipients: string[];
  email_status: 'pending' | 'sent' | 'skipped' | 'failed';
  email_error: string | null;
  event_status: 'pending' | 'emitted' | 'skipped' | 'failed';
  event_id: string | null;
  created_at: Date;
}

/** Records an error notification once per dedupe key; returns the row and whether it is new. */
export async function insertNotification(
  db: Queryable,
  n: Pick<MailboxNotificationRow, 'id' | 'mailbox_id' | 'kind' | 'dedupe_key' | 'subject' | 'message' | 'recipients'>,
): Promise<{ row: MailboxNotificationRow; created: boolean }> {
  const inserted = await db.query<MailboxNotificationRow>(
    `INSERT INTO mailbox_notifications (id, mailbox_id, kind, dedupe_key, subject, message, recipients)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING *`,
    [n.id, n.mailbox_id, n.kind, n.dedupe_key, n.subject, n.message, n.recipients],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const { rows } = await db.query<MailboxNotificationRow>('SELECT * FROM mailbox_notifications WHERE dedupe_key = $1', [
    n.dedupe_key,
  ]);
  return { row: rows[0]!, created: false };
}

export async function updateNotification(
  db: Queryable,
  id: string,
  patch: Partial<Pick<MailboxNotificationRow, 'email_status' | 'email_error' | 'event_status' | 'event_id'>>,
): Promise<void> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return;
  await db.query(
    `UPDATE mailbox_notifications SET ${entries.map(([k], i) => `${k} = $${i + 2}`).join(', ')} WHERE id = $1`,
    [id, ...entries.map(([, v]) => v)],
  );
}

export async function listNotifications(
  db: Queryable,
  mailboxId: string,
  limit = 100,
): Promise<MailboxNotificationRow[]> {
  const { rows } = await db.query<MailboxNotificationRow>(
    'SELECT * FROM mailbox_notifications WHERE mailbox_id = $1 ORDER BY created_at DESC LIMIT $2',
    [mailboxId, limit],
  );
  return rows;
}
