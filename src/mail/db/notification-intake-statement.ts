import { requestArrivalValues, type NewInboundRequest } from '../../platform/ingress/inbound-requests';
import type { NewIntakeJob } from '../../platform/intake/jobs';
import type { Queryable } from '../../platform/db/pool';

/** Placeholders in a notification answer's template, filled in by the statement below. */
export const REPLY_ACCEPTED = '__ACCEPTED__';
export const REPLY_DUPLICATES = '__DUPLICATES__';

/**
 * An email Graph announced: its row if it is new, and the outbox row that starts its processing
 * (whose workflow id is the row's).
 */
export interface NotifiedMail {
  id: string;
  graph_message_id: string;
  job: NewIntakeJob;
}

const NOTIFIED_MAIL_INTAKE = `WITH input AS (
    SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, graph_message_id text, workflow_id text, kind text,
      payload jsonb)
  ), ins AS (
    INSERT INTO inbound_mail (id, mailbox_id, graph_message_id, source, status, workflow_id, scheduler_retries_left)
    SELECT id, $1, graph_message_id, $2, 'queued', workflow_id, $4 FROM input
    ON CONFLICT (mailbox_id, graph_message_id) DO NOTHING
    RETURNING id
  ), jobs AS (
    INSERT INTO intake_jobs (kind, workflow_id, payload)
    SELECT i.kind, i.workflow_id, i.payload FROM input i JOIN ins USING (id)
  ), counted AS (
    SELECT count(*)::int AS created, (SELECT count(*)::int FROM input) AS announced FROM ins
  ), logged AS (
    INSERT INTO inbound_requests (provider, method, path, headers, body, body_bytes, remote_addr, duration_ms,
      response_status, response_body, outcome, note, mailbox_id)
    SELECT 'graph', $5, $6, $7, $8, $9, $10, $11, $12,
      replace(replace($13, '"${REPLY_ACCEPTED}"', created::text), '"${REPLY_DUPLICATES}"', (announced - created)::text),
      CASE WHEN created > 0 OR announced = 0 THEN 'accepted' ELSE 'duplicate' END, $14, $1
    FROM counted)
  SELECT created FROM counted`;

/**
 * A change notification's whole intake write as one statement — its own transaction, one round
 * trip instead of four: a row per email not seen before (a repeat announcement is skipped by
 * the unique key, also against a concurrent copy, which the statement waits for), the outbox
 * rows for the new ones only, and the request's log entry with the answer actually given:
 * `replyTemplate` with the counts filled in, and `duplicate` as outcome when every email was
 * known. No NOTIFY (see `recordIntake`): the caller wakes starters after it. Returns how many
 * emails were new.
 */
export async function insertNotifiedMailIntake(
  db: Queryable,
  mailboxId: string,
  schedulerRetries: number,
  mails: NotifiedMail[],
  log: NewInboundRequest,
  replyTemplate: string,
): Promise<number> {
  const input = mails.map((m) => ({
    id: m.id,
    graph_message_id: m.graph_message_id,
    workflow_id: m.job.workflowId,
    kind: m.job.kind,
    payload: m.job.payload,
  }));
  const { rows } = await db.query<{ created: number }>({
    name: 'notified-mail-intake',
    text: NOTIFIED_MAIL_INTAKE,
    values: [
      mailboxId,
      'notification',
      JSON.stringify(input),
      schedulerRetries,
      ...requestArrivalValues(log),
      replyTemplate,
      log.note ?? null,
    ],
  });
  return rows[0]!.created;
}
