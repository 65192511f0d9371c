import type { Migration } from './migration';

export const m0008: Migration = {
  id: 8,
  name: 'exactly-once-activities',
  legacyId: 40,
  sql: `
      -- What an activity execution finished, keyed by <workflowId>/<runId>/<activityId>[#step]:
      -- a re-run after a lost completion returns it instead of repeating the work or its effects.
      CREATE TABLE activity_effects (
        key text PRIMARY KEY,
        result jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX activity_effects_created_idx ON activity_effects (created_at);

      -- Every execution of an attempt gets its own row; re-runs (Temporal retrying the same
      -- activity after a lost worker or completion) are marked so the log tells the truth.
      ALTER TABLE incoming_webhook_attempts
        ADD COLUMN execution integer NOT NULL DEFAULT 1,
        ADD COLUMN rerun boolean NOT NULL DEFAULT false;
      ALTER TABLE incoming_webhook_attempts DROP CONSTRAINT incoming_webhook_attempts_webhook_id_attempt_key;
      ALTER TABLE incoming_webhook_attempts ADD CONSTRAINT incoming_webhook_attempts_execution_key
        UNIQUE (webhook_id, attempt, execution);
    `,
};
