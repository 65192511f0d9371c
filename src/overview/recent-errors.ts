import type { Queryable } from '../platform/db/pool';

/** What failed: an outgoing delivery, an incoming webhook, an email read from a mailbox, or a reply sent through one. */
export const ERROR_KINDS = ['delivery', 'incoming_webhook', 'inbound_mail', 'outbound_mail'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface RecentError {
  kind: ErrorKind;
  id: string;
  at: Date;
  title: string;
  error: string | null;
  /** The owning webhook, integration, mailbox or ticket, for a link. */
  parentId: string | null;
  parentName: string | null;
  /** Full-precision timestamp for the keyset cursor (a JS Date keeps only milliseconds). */
  atKey: string;
}

export interface ErrorCursor {
  at: string;
  kind: ErrorKind;
  id: string;
}

// Each branch reads newest failures first through a partial index on (failed-at, id) and stops at
// `limit`; the union is then merged. The cursor compares (at, kind, id) so pages never overlap.
const branches: Record<ErrorKind, string> = {
  delivery: `SELECT 'delivery' AS kind, d.id::text AS id, d.updated_at AS at,
      concat_ws(' · ', coalesce(d.event_type, 'batch of ' || d.item_count), d.object_id) AS title,
      coalesce(d.last_error, 'HTTP ' || d.last_response_status) AS error, d.webhook_id::text AS parent_id, w.name AS parent_name
    FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.status = 'failed' AND ($1::timestamptz IS NULL OR (d.updated_at, 'delivery'::text, d.id::text) < ($1, $2::text, $3::text))
    ORDER BY d.updated_at DESC, d.id DESC LIMIT $4`,
  incoming_webhook: `SELECT 'incoming_webhook' AS kind, i.id::text AS id, i.updated_at AS at,
      concat_ws(' · ', i.provider, i.event_type, i.entity_id) AS title, i.error,
      i.integration_id::text AS parent_id, g.name AS parent_name
    FROM incoming_webhooks i JOIN integrations g ON g.id = i.integration_id
    WHERE i.status = 'failed' AND ($1::timestamptz IS NULL OR (i.updated_at, 'incoming_webhook'::text, i.id::text) < ($1, $2::text, $3::text))
    ORDER BY i.updated_at DESC, i.id DESC LIMIT $4`,
  inbound_mail: `SELECT 'inbound_mail' AS kind, m.id::text AS id, m.updated_at AS at,
      concat_ws(' · ', coalesce(m.subject, '(no subject)'), m.from_address) AS title, m.error,
      m.mailbox_id::text AS parent_id, b.name AS parent_name
    FROM inbound_mail m JOIN mailboxes b ON b.id = m.mailbox_id
    WHERE m.status = 'failed' AND ($1::timestamptz IS NULL OR (m.updated_at, 'inbound_mail'::text, m.id::text) < ($1, $2::text, $3::text))
    ORDER BY m.updated_at DESC, m.id DESC LIMIT $4`,
  outbound_mail: `SELECT 'outbound_mail' AS kind, t.id::text AS id, t.created_at AS at, t.subject AS title, t.error,
      t.ticket_id::text AS parent_id, NULL AS parent_name
    FROM ticket_messages t
    WHERE t.direction = 'outbound' AND t.status = 'failed'
      AND ($1::timestamptz IS NULL OR (t.created_at, 'outbound_mail'::text, t.id::text) < ($1, $2::text, $3::text))
    ORDER BY t.created_at DESC, t.id DESC LIMIT $4`,
};

/** The newest failures across the product, newest first, after `cursor`; one kind or all of them. */
export async function recentErrors(
  db: Queryable,
  q: { kinds: readonly ErrorKind[]; limit: number; cursor?: ErrorCursor | undefined },
): Promise<RecentError[]> {
  const union = q.kinds.map((k) => `(${branches[k]})`).join(' UNION ALL ');
  const { rows } = await db.query<
    Omit<RecentError, 'parentId' | 'parentName'> & { parent_id: string | null; parent_name: string | null }
  >(
    `SELECT kind, id, at, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "atKey", title, error, parent_id, parent_name FROM (${union}) e
     ORDER BY at DESC, kind DESC, id DESC LIMIT $4`,
    [q.cursor?.at ?? null, q.cursor?.kind ?? null, q.cursor?.id ?? null, q.limit],
  );
  return rows.map(({ parent_id, parent_name, ...r }) => ({ ...r, parentId: parent_id, parentName: parent_name }));
}
