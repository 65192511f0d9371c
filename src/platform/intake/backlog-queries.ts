import type { Queryable } from '../db/pool';

/** Items waiting and the oldest one's age in whole seconds; 0 when nothing waits. */
export interface Backlog {
  pending: number;
  oldestAgeSeconds: number;
}

const EMPTY: Backlog = { pending: 0, oldestAgeSeconds: 0 };

const backlogOf = (from: string) =>
  `SELECT count(*)::int AS pending, coalesce(floor(extract(epoch FROM now() - min(created_at))), 0)::int AS "oldestAgeSeconds" FROM ${from}`;

/** Incoming webhooks and emails recorded as queued and not yet picked up by their workflows. */
export async function queuedWork(db: Queryable): Promise<{ incomingWebhooks: Backlog; inboundMail: Backlog }> {
  const [incoming, mail] = await Promise.all([
    db.query<Backlog>(backlogOf(`(SELECT received_at AS created_at FROM incoming_webhooks WHERE status = 'queued') q`)),
    db.query<Backlog>(backlogOf(`(SELECT first_seen_at AS created_at FROM inbound_mail WHERE status = 'queued') q`)),
  ]);
  return { incomingWebhooks: incoming.rows[0] ?? EMPTY, inboundMail: mail.rows[0] ?? EMPTY };
}
