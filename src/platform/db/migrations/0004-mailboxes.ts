import type { Migration } from './migration';

/** Microsoft 365 mailboxes, tickets and their messages, the inbound mail log. */
export const m0004: Migration = {
  id: 4,
  name: 'mailboxes',
  legacyId: 4,
  sql: `
  CREATE TABLE mailboxes (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    connection_type text NOT NULL DEFAULT 'office365',
    tenant_id text NOT NULL,
    client_id text NOT NULL,
    secrets_enc text NOT NULL,
    authority jsonb NOT NULL,
    method text NOT NULL CHECK (method IN ('webhooks', 'scan')),
    email_address text,
    mailbox_type text NOT NULL DEFAULT 'standard' CHECK (mailbox_type IN ('standard', 'shared')),
    shared_mailbox text,
    scan_interval_seconds integer,
    after_processing text NOT NULL DEFAULT 'mark_read' CHECK (after_processing IN ('mark_read', 'move', 'none')),
    move_to_folder text,
    error_recipients text[] NOT NULL DEFAULT '{}',
    outgoing_default boolean NOT NULL DEFAULT false,
    -- Mail received before this instant predates the mailbox's connection and is never imported.
    process_since timestamptz,
    token_cache_enc text,
    connected_account text,
    connected_home_account_id text,
    connected_at timestamptz,
    client_state_enc text,
    subscription_id text,
    subscription_resource text,
    subscription_status text NOT NULL DEFAULT 'none',
    subscription_expires_at timestamptz,
    subscription_created_at timestamptz,
    subscription_renewed_at timestamptz,
    subscription_renewals integer NOT NULL DEFAULT 0,
    subscription_max_minutes double precision,
    subscription_error text,
    delta_link text,
    delta_synced_at timestamptz,
    last_error text,
    last_error_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE UNIQUE INDEX mailboxes_one_outgoing_default ON mailboxes ((true)) WHERE outgoing_default;

  -- Pending delegated sign-ins: the state parameter (hashed) and the PKCE verifier (encrypted).
  CREATE TABLE mailbox_auth_requests (
    state_hash text PRIMARY KEY,
    mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    verifier_enc text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );

  CREATE TABLE tickets (
    id uuid PRIMARY KEY,
    number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    mailbox_id uuid REFERENCES mailboxes(id) ON DELETE SET NULL,
    summary text NOT NULL,
    details text NOT NULL,
    status text NOT NULL DEFAULT 'new',
    requester_address text,
    requester_name text,
    conversation_id text,
    message_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX tickets_conversation_idx ON tickets (mailbox_id, conversation_id);
  CREATE INDEX tickets_created_idx ON tickets (created_at DESC, id);

  CREATE TABLE inbound_mail (
    id uuid PRIMARY KEY,
    mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    graph_message_id text NOT NULL,
    source text NOT NULL,
    status text NOT NULL,
    internet_message_id text,
    conversation_id text,
    subject text,
    from_address text,
    from_name text,
    received_at timestamptz,
    ticket_id uuid REFERENCES tickets(id) ON DELETE SET NULL,
    outcome text,
    error text,
    attempts_made integer NOT NULL DEFAULT 0,
    scheduler_retries_left integer NOT NULL DEFAULT 0,
    next_retry_at timestamptz,
    manual_retries integer NOT NULL DEFAULT 0,
    post_action text,
    post_action_error text,
    event_id uuid,
    workflow_id text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    UNIQUE (mailbox_id, graph_message_id)
  );
  CREATE INDEX inbound_mail_seen_idx ON inbound_mail (first_seen_at DESC, id);
  CREATE INDEX inbound_mail_mailbox_idx ON inbound_mail (mailbox_id, first_seen_at DESC, id);
  CREATE INDEX inbound_mail_retry_idx ON inbound_mail (mailbox_id, next_retry_at) WHERE status = 'failed';

  -- "Requests": each processing attempt with the raw message fetched and its processing log.
  CREATE TABLE inbound_mail_requests (
    id bigserial PRIMARY KEY,
    mail_id uuid NOT NULL REFERENCES inbound_mail(id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    trigger text NOT NULL,
    status text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    error text,
    raw jsonb,
    log jsonb NOT NULL DEFAULT '[]',
    UNIQUE (mail_id, attempt)
  );

  CREATE TABLE ticket_messages (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    mailbox_id uuid REFERENCES mailboxes(id) ON DELETE SET NULL,
    inbound_mail_id uuid REFERENCES inbound_mail(id) ON DELETE SET NULL,
    graph_message_id text,
    -- One stored copy per email however many mailboxes or notifications brought it.
    internet_message_id text UNIQUE,
    conversation_id text,
    from_address text,
    from_name text,
    to_addresses jsonb NOT NULL DEFAULT '[]',
    subject text NOT NULL,
    body_type text NOT NULL,
    body text NOT NULL,
    unique_body text,
    threaded_by text,
    status text NOT NULL,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
  );
  CREATE INDEX ticket_messages_ticket_idx ON ticket_messages (ticket_id, created_at);
  CREATE INDEX ticket_messages_conversation_idx ON ticket_messages (mailbox_id, conversation_id);

  CREATE TABLE mailbox_notifications (
    id uuid PRIMARY KEY,
    mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    kind text NOT NULL,
    dedupe_key text NOT NULL UNIQUE,
    subject text NOT NULL,
    message text NOT NULL,
    recipients text[] NOT NULL,
    email_status text NOT NULL DEFAULT 'pending',
    email_error text,
    event_status text NOT NULL DEFAULT 'pending',
    event_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX mailbox_notifications_mailbox_idx ON mailbox_notifications (mailbox_id, created_at DESC);
`,
};
