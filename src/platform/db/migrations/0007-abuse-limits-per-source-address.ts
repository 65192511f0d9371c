import type { Migration } from './migration';

export const m0007: Migration = {
  id: 7,
  name: 'abuse limits per source address',
  legacyId: 30,
  sql: `
      -- Counters per (what, source address, window): rejected ingress requests, failed authentications, token requests.
      CREATE TABLE address_rate_windows (
        scope text NOT NULL,
        address text NOT NULL,
        window_start timestamptz NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (scope, address, window_start)
      );
      CREATE INDEX address_rate_windows_start_idx ON address_rate_windows (window_start);
      -- Pruning rejected requests by age and by count.
      CREATE INDEX inbound_requests_rejected_idx ON inbound_requests (received_at, id) WHERE outcome = 'rejected';
    `,
};
