import type { Migration } from './migration';

/** Retention runs and their pruning indexes, lightweight payload dropping, the mailbox enable flag. */
export const m0012: Migration = {
  id: 12,
  name: 'retention-and-mailbox-gaps',
  legacyId: 61,
  sql: `
  -- What each retention run pruned (or would have, on a dry run), for its result and /metrics.
  CREATE TABLE retention_runs (
    id uuid PRIMARY KEY,
    dry_run boolean NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    pruned jsonb NOT NULL DEFAULT '{}'
  );
  CREATE INDEX retention_runs_started_idx ON retention_runs (started_at DESC);

  -- Pruning walks each log oldest first in small batches: these keep every batch an index range scan.
  CREATE INDEX deliveries_finished_idx ON deliveries (finished_at) WHERE finished_at IS NOT NULL;
  CREATE INDEX delivery_attempts_bodies_idx ON delivery_attempts (started_at)
    WHERE request IS NOT NULL OR response_body IS NOT NULL OR response_headers IS NOT NULL;
  CREATE INDEX inbound_mail_processed_idx ON inbound_mail (processed_at) WHERE processed_at IS NOT NULL;
  -- Deleting a parent row checks (or nulls) the rows referring to it: without these, every deleted
  -- event, webhook or email would scan the referring table.
  CREATE INDEX deliveries_event_idx ON deliveries (event_id) WHERE event_id IS NOT NULL;
  CREATE INDEX batch_items_event_idx ON batch_items (event_id);
  CREATE INDEX inbound_requests_webhook_idx ON inbound_requests (incoming_webhook_id) WHERE incoming_webhook_id IS NOT NULL;
  CREATE INDEX ticket_messages_inbound_mail_idx ON ticket_messages (inbound_mail_id) WHERE inbound_mail_id IS NOT NULL;

  -- Lightweight-log webhooks keep no bodies: a delivery's payload goes once it has finished,
  -- whichever code path finishes it.
  CREATE FUNCTION deliveries_drop_lightweight_payload() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    NEW.payload := NULL;
    RETURN NEW;
  END $$;
  CREATE TRIGGER deliveries_lightweight_payload BEFORE INSERT OR UPDATE ON deliveries
    FOR EACH ROW WHEN (NEW.lightweight AND NEW.finished_at IS NOT NULL AND NEW.payload IS NOT NULL)
    EXECUTE FUNCTION deliveries_drop_lightweight_payload();
  UPDATE deliveries SET payload = NULL WHERE lightweight AND finished_at IS NOT NULL AND payload IS NOT NULL;

  -- Mailboxes can be switched off without deleting them; inbound requests name the mailbox they were for.
  ALTER TABLE mailboxes ADD COLUMN enabled boolean NOT NULL DEFAULT true;
  ALTER TABLE inbound_requests ADD COLUMN mailbox_id uuid REFERENCES mailboxes(id) ON DELETE SET NULL;
  CREATE INDEX inbound_requests_mailbox_idx ON inbound_requests (mailbox_id, id DESC) WHERE mailbox_id IS NOT NULL;
`,
};
