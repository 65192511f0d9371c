import type { Queryable } from './pool';

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
  outcome: 'accepted' | 'duplicate' | 'rejected';
  incoming_webhook_id: string | null;
  /** The mailbox a Graph notification was for. */
  mailbox_id: string | null;
}

export type NewInboundRequest = Omit<InboundRequestRow, 'id' | 'received_at' | 'mailbox_id'> & {
  mailbox_id?: string | null;
};

export async function insertInboundRequest(db: Queryable, r: NewInboundRequest): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO inbound_requests (integration_id, provider, method, path, headers, body, body_bytes, remote_addr,
       duration_ms, response_status, response_body, outcome, incoming_webhook_id, mailbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
    [
      r.integration_id,
      r.provider,
      r.method,
      r.path,
      JSON.stringify(r.headers),
      r.body,
      r.body_bytes,
      r.remote_addr,
      r.duration_ms,
      r.response_status,
      r.response_body,
      r.outcome,
      r.incoming_webhook_id,
      r.mailbox_id ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function listInboundRequests(
  db: Queryable,
  f: {
    integrationId?: string | undefined;
    mailboxId?: string | undefined;
    outcome?: string | undefined;
    beforeId?: string | undefined;
    limit: number;
  },
): Promise<InboundRequestRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.integrationId) where.push(`integration_id = $${args.push(f.integrationId)}`);
  if (f.mailboxId) where.push(`mailbox_id = $${args.push(f.mailboxId)}`);
  if (f.outcome) where.push(`outcome = $${args.push(f.outcome)}`);
  if (f.beforeId) where.push(`id < $${args.push(f.beforeId)}`);
  const limit = `$${args.push(f.limit)}`;
  const { rows } = await db.query<InboundRequestRow>(
    `SELECT * FROM inbound_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`,
    args,
  );
  return rows;
}
