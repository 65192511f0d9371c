import type { Migration } from './migration';

export const m0013: Migration = {
  id: 13,
  name: 'overview-indexes',
  legacyId: 80,
  sql: `
      -- The overview reads deliveries in a time window across webhooks, and the newest failures.
      CREATE INDEX IF NOT EXISTS deliveries_created_idx ON deliveries (created_at);
      CREATE INDEX IF NOT EXISTS deliveries_failed_idx ON deliveries (updated_at DESC, id DESC) WHERE status = 'failed';
      CREATE INDEX IF NOT EXISTS incoming_webhooks_failed_idx ON incoming_webhooks (updated_at DESC, id DESC)
        WHERE status = 'failed';
      CREATE INDEX IF NOT EXISTS inbound_mail_failed_idx ON inbound_mail (updated_at DESC, id DESC) WHERE status = 'failed';
      CREATE INDEX IF NOT EXISTS inbound_mail_queued_idx ON inbound_mail (first_seen_at) WHERE status = 'queued';
    `,
};
