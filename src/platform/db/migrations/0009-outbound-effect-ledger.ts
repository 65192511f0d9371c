import type { Migration } from './migration';

/**
 * The outbound-effect ledger. An outbound call (a forward) is recorded as `started` and committed
 * before it is made, under a key stable across runs, executions and attempts; the answer turns it
 * `completed`. A worker killed between the receiver's answer and that record leaves `started`: the
 * next execution re-sends with the same key (receivers dedupe by it) instead of sending a second,
 * unrelated request. `updated_at` is what retention prunes by.
 */
export const m0009: Migration = {
  id: 9,
  name: 'outbound-effect-ledger',
  legacyId: 41,
  sql: `
  ALTER TABLE activity_effects
    ALTER COLUMN result DROP NOT NULL,
    ADD COLUMN state text NOT NULL DEFAULT 'completed' CHECK (state IN ('started', 'completed')),
    -- The business attempt that last sent it, and whether the receiver took it (2xx): a refused
    -- call is tried again by a later attempt, with the same key; a delivered one never again.
    ADD COLUMN attempt integer,
    ADD COLUMN delivered boolean,
    -- How often it was sent, and how many of those were re-sends after an unknown outcome.
    ADD COLUMN sends integer NOT NULL DEFAULT 0,
    ADD COLUMN resends_after_unknown integer NOT NULL DEFAULT 0,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
  UPDATE activity_effects SET updated_at = created_at;
  DROP INDEX activity_effects_created_idx;
  CREATE INDEX activity_effects_updated_idx ON activity_effects (updated_at);
`,
};
