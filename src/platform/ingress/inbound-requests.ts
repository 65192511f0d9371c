import { type Keyset, type WithKeyset, keysetBefore, keysetColumn } from '../db/keyset';
import type { Queryable } from '../db/pool';

export interface InboundRequestRow {
  id: string;
  integration_id: string | null;
  provider: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  body_bytes: number;
  remote_addr: string | null;
  received_at: Date;
  duration_ms: number | null;
  response_status: number;
  response_body: string | null;
  outcome: 'accepted' | 'duplicate' | 'rejected' | 'ignored';
  incoming_webhook_id: string | null;
  /** What Switchyard made of the request, when the answer itself does not say (Xero gets a bare 200). */
  note: string | null;
  /** The mailbox a Graph notification was for. */
  mailbox_id: string | null;
}

export type NewInboundRequest = Omit<InboundRequestRow, 'id' | 'received_at' | 'note' | 'mailbox_id'> & {
  note?: string | null;
  mailbox_id?: string | null;
};

/** The columns an inbound request is written with, in the order of `inboundRequestValues`. */
export const INBOUND_REQUEST_COLUMNS = `integration_id, provider, method, path, headers, body, body_bytes, remote_addr,
  duration_ms, response_status, response_body, outcome, incoming_webhook_id, note, mailbox_id`;

/**
 * What a request brought and how long it took (method … response_status, 8 values), for a
 * statement that fills in the answer's columns itself (the one-statement intakes).
 */
export const requestArrivalValues = (r: NewInboundRequest): unknown[] => [
  r.method,
  r.path,
  JSON.stringify(r.headers),
  r.body,
  r.body_bytes,
  r.remote_addr,
  r.duration_ms,
  r.response_status,
];

export const inboundRequestValues = (r: NewInboundRequest): unknown[] => [
  r.integration_id,
  r.provider,
  ...requestArrivalValues(r),
  r.response_body,
  r.outcome,
  r.incoming_webhook_id,
  r.note ?? null,
  r.mailbox_id ?? null,
];

/** `$<from>, …` for the values of one inbound request. */
export const inboundRequestPlaceholders = (from: number) =>
  Array.from({ length: 15 }, (_, i) => `$${from + i}`).join(', ');

export async function insertInboundRequest(db: Queryable, r: NewInboundRequest): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO inbound_requests (${INBOUND_REQUEST_COLUMNS}) VALUES (${inboundRequestPlaceholders(1)}) RETURNING id`,
    inboundRequestValues(r),
  );
  return rows[0]!.id;
}

export async function listInboundRequests(
  db: Queryable,
  f: {
    integrationId?: string | undefined;
    mailboxId?: string | undefined;
    outcome?: string | undefined;
    before?: Keyset | undefined;
    limit: number;
  },
): Promise<WithKeyset<InboundRequestRow>[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.integrationId) where.push(`integration_id = $${args.push(f.integrationId)}`);
  if (f.mailboxId) where.push(`mailbox_id = $${args.push(f.mailboxId)}`);
  if (f.outcome) where.push(`outcome = $${args.push(f.outcome)}`);
  if (f.before) where.push(keysetBefore('received_at', 'id', 'bigint', f.before, (v) => `$${args.push(v)}`));
  const limit = `$${args.push(f.limit)}`;
  const { rows } = await db.query<WithKeyset<InboundRequestRow>>(
    `SELECT *, ${keysetColumn('received_at')} FROM inbound_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY received_at DESC, id DESC LIMIT ${limit}`,
    args,
  );
  return rows;
}

/**
 * Deletes rejected requests received before `olderThan`, then the oldest beyond `maxRows`
 * (a bounded cap whatever the age), in batches so one call never holds a long lock.
 * Returns how many rows went. Accepted and duplicate requests are left to general retention.
 */
export async function pruneRejectedRequests(
  db: Queryable,
  olderThan: Date,
  maxRows = Number.MAX_SAFE_INTEGER,
  batch = 5000,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM inbound_requests WHERE id IN (
         SELECT id FROM inbound_requests WHERE outcome = 'rejected' AND received_at < $1 ORDER BY received_at LIMIT $2)`,
      [olderThan, batch],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) break;
  }
  if (maxRows < Number.MAX_SAFE_INTEGER) {
    const { rowCount } = await db.query(
      `DELETE FROM inbound_requests WHERE id IN (
         SELECT id FROM inbound_requests WHERE outcome = 'rejected' ORDER BY received_at DESC, id DESC OFFSET $1)`,
      [maxRows],
    );
    deleted += rowCount ?? 0;
  }
  await db.query(`DELETE FROM address_rate_windows WHERE window_start < now() - interval '1 day'`);
  return deleted;
}
