import type { Queryable } from './pool';

export interface Backlog {
  pending: number;
  /** Age of the oldest waiting item; 0 when nothing waits. */
  oldestAgeSeconds: number;
}

const EMPTY: Backlog = { pending: 0, oldestAgeSeconds: 0 };

const backlogOf = (from: string) =>
  `SELECT count(*)::int AS pending, coalesce(floor(extract(epoch FROM now() - min(created_at))), 0)::int AS "oldestAgeSeconds" FROM ${from}`;

/**
 * Work accepted at ingress and not yet started: rows in the `intake_jobs` outbox, which a starter
 * deletes once it has turned them into workflow starts. Until that table exists this answers 0,
 * so the overview works before and after it lands.
 */
export async function intakeBacklog(db: Queryable): Promise<Backlog> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass('intake_jobs') IS NOT NULL AS present`);
  if (!rows[0]?.present) return EMPTY;
  const r = await db.query<Backlog>(backlogOf('intake_jobs'));
  return r.rows[0] ?? EMPTY;
}

/** Incoming webhooks and emails recorded as queued and not yet picked up by their workflows. */
export async function queuedWork(db: Queryable): Promise<{ incomingWebhooks: Backlog; inboundMail: Backlog }> {
  const [incoming, mail] = await Promise.all([
    db.query<Backlog>(backlogOf(`(SELECT received_at AS created_at FROM incoming_webhooks WHERE status = 'queued') q`)),
    db.query<Backlog>(backlogOf(`(SELECT first_seen_at AS created_at FROM inbound_mail WHERE status = 'queued') q`)),
  ]);
  return { incomingWebhooks: incoming.rows[0] ?? EMPTY, inboundMail: mail.rows[0] ?? EMPTY };
}
