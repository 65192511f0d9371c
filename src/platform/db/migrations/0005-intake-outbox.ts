import type { Migration } from './migration';

/**
 * The intake outbox: a row per workflow start or signal that committed work still needs.
 * Ingress writes it in the same transaction as the work and the request log; the starter
 * claims rows, talks to Temporal, and deletes them. `claimed_until` is a lease, so a starter
 * that dies mid-claim only delays its rows.
 */
export const m0005: Migration = {
  id: 5,
  name: 'intake-outbox',
  legacyId: 10,
  sql: `
  CREATE TABLE intake_jobs (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    workflow_id text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    run_after timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    tries integer NOT NULL DEFAULT 0,
    last_error text
  );
  CREATE INDEX intake_jobs_due_idx ON intake_jobs (run_after, id);

  -- What Switchyard made of a request, for the log reader; the wire answer may be bare (Xero).
  ALTER TABLE inbound_requests ADD COLUMN note text;

`,
};
