import type { Migration } from './migration';

export const m0006: Migration = {
  id: 6,
  name: 'delivery-lanes',
  legacyId: 20,
  sql: `
      -- One lane per webhook works from these columns: what is due (status, next_attempt_at), in what
      -- order (seq), which attempt of the current round (round_attempts) and who holds it (claimed_until).
      ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_status_check;
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'in_flight', 'retrying', 'succeeded', 'failed', 'held'));
      CREATE SEQUENCE deliveries_seq;
      ALTER TABLE deliveries
        ADD COLUMN seq bigint NOT NULL DEFAULT nextval('deliveries_seq'),
        ADD COLUMN round_attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN claimed_until timestamptz;
      ALTER SEQUENCE deliveries_seq OWNED BY deliveries.seq;
      UPDATE deliveries SET next_attempt_at = now() WHERE status = 'pending' AND next_attempt_at IS NULL;
      CREATE INDEX deliveries_lane_idx ON deliveries (webhook_id, seq) WHERE status IN ('pending', 'in_flight', 'retrying');
    `,
};
