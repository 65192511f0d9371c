import type { Migration } from './migration';

/** Email attachments, stored once per content hash. */
export const m0011: Migration = {
  id: 11,
  name: 'email-attachments',
  legacyId: 60,
  sql: `
  -- Attachment content, stored once per SHA-256 however many emails carry it.
  CREATE TABLE attachment_blobs (
    sha256 text PRIMARY KEY,
    size integer NOT NULL,
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );

  -- Attachments of ticket messages: fetched from Graph for inbound mail, chosen by the agent for replies.
  -- A row without sha256 is one past the size limits: kept as a note naming it and its size.
  CREATE TABLE ticket_attachments (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    ticket_message_id uuid NOT NULL REFERENCES ticket_messages(id) ON DELETE CASCADE,
    graph_attachment_id text,
    name text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    is_inline boolean NOT NULL DEFAULT false,
    content_id text,
    sha256 text REFERENCES attachment_blobs(sha256),
    skipped_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Fetching an email's attachments again (a retried activity) stores nothing twice.
    UNIQUE (ticket_message_id, graph_attachment_id),
    CHECK ((sha256 IS NULL) = (skipped_reason IS NOT NULL))
  );
  CREATE INDEX ticket_attachments_ticket_idx ON ticket_attachments (ticket_id, created_at);
  CREATE INDEX ticket_attachments_sha_idx ON ticket_attachments (sha256);
`,
};
