import type { Migration } from './migration';

export const m0014: Migration = {
  id: 14,
  name: 'lane-polling-marks',
  legacyId: 90,
  sql: `
      -- A lane in a round marks itself here while it polls its queue (src/outgoing/db/lane-rounds.ts):
      -- the intake starter does not signal a lane that will see the new work anyway.
      CREATE TABLE lane_rounds (
        webhook_id uuid PRIMARY KEY REFERENCES webhooks(id) ON DELETE CASCADE,
        polling_until timestamptz NOT NULL
      );
    `,
};
