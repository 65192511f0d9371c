import { type Keyset, type WithKeyset, keysetBefore, keysetColumn } from '../../platform/db/keyset';
import type { Queryable } from '../../platform/db/pool';

export type InboundMailStatus =
  'queued' | 'processing' | 'retrying' | 'ticket_created' | 'ticket_updated' | 'duplicate' | 'skipped' | 'failed';

export const FINAL_MAIL_STATUSES: InboundMailStatus[] = [
  'ticket_created',
  'ticket_updated',
  'duplicate',
  'skipped',
  'failed',
];

export type MailSource = 'notification' | 'delta' | 'scan' | 'import';
export type MailTrigger = 'automatic' | 'scheduler' | 'manual';

export interface InboundMailRow {
  id: string;
  mailbox_id: string;
  graph_message_id: string;
  source: MailSource;
  status: InboundMailStatus;
  internet_message_id: string | null;
  conversation_id: string | null;
  subject: string | null;
  from_address: string | null;
  from_name: string | null;
  received_at: Date | null;
  ticket_id: string | null;
  outcome: string | null;
  error: string | null;
  attempts_made: number;
  scheduler_retries_left: number;
  next_retry_at: Date | null;
  manual_retries: number;
  post_action: string | null;
  post_action_error: string | null;
  event_id: string | null;
  workflow_id: string;
  first_seen_at: Date;
  updated_at: Date;
  processed_at: Date | null;
}

/** What identifies a logged email and its processing workflow. */
export type LoggedMailRef = Pick<
  InboundMailRow,
  'id' | 'mailbox_id' | 'graph_message_id' | 'workflow_id' | 'attempts_made'
>;

export interface MailRequestRow {
  id: string;
  mail_id: string;
  attempt: number;
  trigger: MailTrigger;
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  raw: unknown;
  log: Array<{ at: string; message: string }>;
}

export interface NewInboundMail {
  id: string;
  graph_message_id: string;
  workflow_id: string;
  subject?: string | null;
  from_address?: string | null;
  from_name?: string | null;
  internet_message_id?: string | null;
  received_at?: Date | null;
}

/**
 * Records mail seen in a mailbox, ignoring ids already logged; returns every row for the given
 * ids with `created` telling which are new. One statement, so a notification batch costs one round trip.
 */
export async function upsertInboundMail(
  db: Queryable,
  mailboxId: string,
  source: MailSource,
  schedulerRetries: number,
  mails: NewInboundMail[],
): Promise<Array<LoggedMailRef & { created: boolean }>> {
  if (mails.length === 0) return [];
  // Only what a start needs comes back: a burst of notifications returns many rows, and
  // parsing every column of each (dates included) was a visible share of the answer's CPU.
  const { rows } = await db.query<LoggedMailRef & { created: boolean }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, graph_message_id text, workflow_id text, subject text,
         from_address text, from_name text, internet_message_id text, received_at timestamptz)
     ), ins AS (
       INSERT INTO inbound_mail (id, mailbox_id, graph_message_id, source, status, workflow_id, subject, from_address,
         from_name, internet_message_id, received_at, scheduler_retries_left)
       SELECT id, $1, graph_message_id, $2, 'queued', workflow_id, subject, from_address, from_name, internet_message_id,
         received_at, $4 FROM input
       ON CONFLICT (mailbox_id, graph_message_id) DO NOTHING
       RETURNING id, mailbox_id, graph_message_id, workflow_id, attempts_made
     )
     SELECT ins.*, true AS created FROM ins
     UNION ALL
     SELECT m.id, m.mailbox_id, m.graph_message_id, m.workflow_id, m.attempts_made, false AS created
       FROM inbound_mail m JOIN input i ON i.graph_message_id = m.graph_message_id
       WHERE m.mailbox_id = $1 AND NOT EXISTS (SELECT 1 FROM ins WHERE ins.graph_message_id = m.graph_message_id)`,
    [mailboxId, source, JSON.stringify(mails), schedulerRetries],
  );
  return rows;
}

export async function getInboundMail(db: Queryable, id: string): Promise<InboundMailRow | undefined> {
  const { rows } = await db.query<InboundMailRow>('SELECT * FROM inbound_mail WHERE id = $1', [id]);
  return rows[0];
}

/** Ids of logged mail among `graphIds` (to skip delta items already handled without touching Temporal). */
export async function knownGraphIds(db: Queryable, mailboxId: string, graphIds: string[]): Promise<Set<string>> {
  if (graphIds.length === 0) return new Set();
  const { rows } = await db.query<{ graph_message_id: string }>(
    'SELECT graph_message_id FROM inbound_mail WHERE mailbox_id = $1 AND graph_message_id = ANY($2)',
    [mailboxId, graphIds],
  );
  return new Set(rows.map((r) => r.graph_message_id));
}

export interface InboundMailFilter {
  mailboxId?: string | undefined;
  status?: string | undefined;
  before?: Keyset | undefined;
  limit: number;
}

export async function listInboundMail(db: Queryable, f: InboundMailFilter): Promise<WithKeyset<InboundMailRow>[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    args.push(value);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (f.mailboxId) add('mailbox_id = ?', f.mailboxId);
  if (f.status) add('status = ?', f.status);
  if (f.before) where.push(keysetBefore('first_seen_at', 'id', 'uuid', f.before, (v) => `$${args.push(v)}`));
  args.push(f.limit);
  const { rows } = await db.query<WithKeyset<InboundMailRow>>(
    `SELECT *, ${keysetColumn('first_seen_at')} FROM inbound_mail ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY first_seen_at DESC, id DESC LIMIT $${args.length}`,
    args,
  );
  return rows;
}

export async function countInboundMailByStatus(db: Queryable, mailboxId?: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM inbound_mail ${mailboxId ? 'WHERE mailbox_id = $1' : ''} GROUP BY status`,
    mailboxId ? [mailboxId] : [],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export async function updateInboundMail(
  db: Queryable,
  id: string,
  patch: {
    [K in keyof Omit<InboundMailRow, 'id' | 'mailbox_id' | 'graph_message_id' | 'first_seen_at' | 'updated_at'>]?:
      InboundMailRow[K] | undefined;
  },
): Promise<void> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return;
  await db.query(
    `UPDATE inbound_mail SET ${entries.map(([k], i) => `${k} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`,
    [id, ...entries.map(([, v]) => v)],
  );
}

/**
 * Opens request (attempt) `attempt` idempotently — a retried activity reuses the row — and marks
 * older requests still running as abandoned: their worker died before finishing them.
 */
export async function beginMailRequest(
  db: Queryable,
  mailId: string,
  attempt: number,
  trigger: MailTrigger,
): Promise<void> {
  await db.query(
    `UPDATE inbound_mail_requests SET status = 'abandoned', finished_at = now(),
       error = 'the worker stopped before this request finished'
     WHERE mail_id = $1 AND attempt < $2 AND status = 'running'`,
    [mailId, attempt],
  );
  await db.query(
    `INSERT INTO inbound_mail_requests (mail_id, attempt, trigger, status) VALUES ($1, $2, $3, 'running')
     ON CONFLICT (mail_id, attempt) DO UPDATE SET status = 'running', finished_at = NULL, error = NULL`,
    [mailId, attempt, trigger],
  );
  await db.query(
    `UPDATE inbound_mail SET status = 'processing', attempts_made = GREATEST(attempts_made, $2), updated_at = now() WHERE id = $1`,
    [mailId, attempt],
  );
}

/** Closes a request with its outcome, the raw message fetched and the log written so far (appended). */
export async function finishMailRequest(
  db: Queryable,
  mailId: string,
  attempt: number,
  r: {
    status: 'succeeded' | 'failed';
    error?: string | undefined;
    raw?: unknown;
    log: Array<{ at: string; message: string }>;
  },
): Promise<void> {
  await db.query(
    `UPDATE inbound_mail_requests SET status = $3, finished_at = now(), error = $4,
       raw = COALESCE($5, raw), log = log || $6::jsonb
     WHERE mail_id = $1 AND attempt = $2`,
    [
      mailId,
      attempt,
      r.status,
      r.error ?? null,
      r.raw === undefined ? null : JSON.stringify(r.raw),
      JSON.stringify(r.log),
    ],
  );
}

export async function listMailRequests(db: Queryable, mailId: string): Promise<MailRequestRow[]> {
  const { rows } = await db.query<MailRequestRow>(
    'SELECT * FROM inbound_mail_requests WHERE mail_id = $1 ORDER BY attempt',
    [mailId],
  );
  return rows;
}

/** Failed mail of a mailbox whose next automatic retry is due; claims it so two sweeps do not both retry. */
export async function claimDueRetries(db: Queryable, mailboxId: string, limit: number): Promise<InboundMailRow[]> {
  const { rows } = await db.query<InboundMailRow>(
    `UPDATE inbound_mail SET status = 'retrying', scheduler_retries_left = scheduler_retries_left - 1,
       next_retry_at = NULL, updated_at = now()
     WHERE id IN (SELECT id FROM inbound_mail WHERE mailbox_id = $1 AND status = 'failed'
                    AND scheduler_retries_left > 0 AND next_retry_at <= now()
                  ORDER BY next_retry_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [mailboxId, limit],
  );
  return rows;
}

/** Appends to a request's log without closing it (before a retryable failure is thrown). */
export async function appendMailRequestLog(
  db: Queryable,
  mailId: string,
  attempt: number,
  log: Array<{ at: string; message: string }>,
): Promise<void> {
  await db.query('UPDATE inbound_mail_requests SET log = log || $3::jsonb WHERE mail_id = $1 AND attempt = $2', [
    mailId,
    attempt,
    JSON.stringify(log),
  ]);
}
