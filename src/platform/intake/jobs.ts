import {
  INBOUND_REQUEST_COLUMNS,
  inboundRequestPlaceholders,
  inboundRequestValues,
  type NewInboundRequest,
} from '../ingress/inbound-requests';
import type { Db, Queryable } from '../db/pool';

/** The notification channel that wakes starters in every process when jobs are committed. */
export const INTAKE_CHANNEL = 'switchyard_intake';

export interface NewIntakeJob {
  kind: string;
  workflowId: string;
  payload: unknown;
}

/** The payload key that carries the storing request's trace context (`jobFor`); never seen by a family. */
export const TRACEPARENT_KEY = '_traceparent';

export interface IntakeJobRow {
  id: string;
  kind: string;
  workflow_id: string;
  /** Without `TRACEPARENT_KEY`. */
  payload: unknown;
  /** The trace the job was stored in, when tracing was on. */
  traceparent: string | null;
  created_at: Date;
  tries: number;
}

const jobColumns = (jobs: NewIntakeJob[]) => [
  jobs.map((j) => j.kind),
  jobs.map((j) => j.workflowId),
  jobs.map((j) => JSON.stringify(j.payload)),
];

/** Outbox rows from `jobColumns` ($1-$3). */
const INSERT_INTAKE_JOBS = `INSERT INTO intake_jobs (kind, workflow_id, payload)
  SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])`;

/**
 * Records work to hand to Temporal, inside the caller's transaction. With `wake: 'on-commit'`
 * the statement also NOTIFYs, delivered only when that transaction commits, for callers that
 * cannot act after the commit (a transaction someone else owns). A caller that wakes starters
 * itself after committing (`IntakeWake`) passes `'by-caller'`: a NOTIFY here would be a second
 * one, and would make its commit wait for PostgreSQL's notify lock.
 */
export async function insertIntakeJobs(
  tx: Queryable,
  jobs: NewIntakeJob[],
  wake: 'on-commit' | 'by-caller' = 'on-commit',
): Promise<void> {
  if (jobs.length === 0) return;
  if (wake === 'by-caller') {
    await tx.query(INSERT_INTAKE_JOBS, jobColumns(jobs));
    return;
  }
  await tx.query(`WITH added AS (${INSERT_INTAKE_JOBS}) SELECT pg_notify($4, '')`, [
    ...jobColumns(jobs),
    INTAKE_CHANNEL,
  ]);
}

const RECORD_INTAKE = `WITH added AS (${INSERT_INTAKE_JOBS})
  INSERT INTO inbound_requests (${INBOUND_REQUEST_COLUMNS}) VALUES (${inboundRequestPlaceholders(4)})`;

/**
 * Ingress's closing write, in one statement (one round trip on the hot path): the request's
 * log entry and its outbox rows. No NOTIFY here: PostgreSQL serializes the commits of every
 * transaction that notifies (a database-wide lock held through the WAL flush), which capped
 * ingress at one fsync per request. The caller wakes starters after the commit instead
 * (`IntakeWake`), and the starters' poll covers a process that dies in between.
 */
export async function recordIntake(tx: Queryable, jobs: NewIntakeJob[], request: NewInboundRequest): Promise<void> {
  await tx.query({
    name: 'record-intake',
    text: RECORD_INTAKE,
    values: [...jobColumns(jobs), ...inboundRequestValues(request)],
  });
}

/** Wakes the starters of every process (they LISTEN); its own short transaction, outside any intake one. */
export async function notifyIntakeStarters(db: Queryable): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [INTAKE_CHANNEL, '']);
}

/** Leases up to `limit` due jobs, oldest first, skipping rows another starter holds. */
export async function claimIntakeJobs(db: Db, limit: number, leaseSeconds: number): Promise<IntakeJobRow[]> {
  const { rows } = await db.query<IntakeJobRow>(
    `UPDATE intake_jobs j SET claimed_until = now() + make_interval(secs => $2), tries = j.tries + 1
     FROM (SELECT id FROM intake_jobs
           WHERE run_after <= now() AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) due
     WHERE j.id = due.id
     RETURNING j.id, j.kind, j.workflow_id, j.created_at, j.tries,
       CASE WHEN jsonb_typeof(j.payload) = 'object' THEN j.payload - $3 ELSE j.payload END AS payload,
       j.payload ->> $3 AS traceparent`,
    [limit, leaseSeconds, TRACEPARENT_KEY],
  );
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

export async function deleteIntakeJobs(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.query('DELETE FROM intake_jobs WHERE id = ANY($1::bigint[])', [ids]);
}

/** Puts failed jobs back for a later try, with the reason kept for operators. */
export async function deferIntakeJobs(db: Queryable, ids: string[], delayMs: number, error: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE intake_jobs SET claimed_until = NULL, run_after = now() + make_interval(secs => $2), last_error = $3
     WHERE id = ANY($1::bigint[])`,
    [ids, delayMs / 1000, error.slice(0, 1000)],
  );
}

export interface IntakeBacklog {
  pending: number;
  oldestAgeSeconds: number;
}

export async function intakeBacklog(db: Queryable): Promise<IntakeBacklog> {
  const { rows } = await db.query<{ pending: string; oldest: number | null }>(
    `SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest FROM intake_jobs`,
  );
  return { pending: Number(rows[0]?.pending ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
}
