import type { Migration } from './migration';

export const m0001: Migration = {
  id: 1,
  name: 'foundation',
  legacyId: 1,
  sql: `
      CREATE TABLE api_clients (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('application', 'api_key')),
        client_id text NOT NULL UNIQUE,
        secret_hash text NOT NULL UNIQUE,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      );

      CREATE TABLE api_tokens (
        token_hash text PRIMARY KEY,
        api_client_id uuid NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX api_tokens_expires_idx ON api_tokens (expires_at);

      CREATE TABLE rate_limit_windows (
        api_client_id uuid NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
        window_start timestamptz NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (api_client_id, window_start)
      );

      CREATE TABLE integrations (
        id uuid PRIMARY KEY,
        provider text NOT NULL CHECK (provider IN ('generic', 'xero', 'quickbooks')),
        name text NOT NULL,
        processing_method text NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        secrets_enc text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE incoming_webhooks (
        id uuid PRIMARY KEY,
        integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        provider text NOT NULL,
        delivery_key text NOT NULL,
        event_type text,
        entity_type text,
        entity_id text,
        processing_method text NOT NULL,
        status text NOT NULL,
        attempts_allowed integer NOT NULL,
        attempts_made integer NOT NULL DEFAULT 0,
        workflow_id text NOT NULL,
        payload text NOT NULL,
        result jsonb,
        error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (integration_id, delivery_key)
      );
      CREATE INDEX incoming_webhooks_received_idx ON incoming_webhooks (received_at DESC, id);
      CREATE INDEX incoming_webhooks_status_idx ON incoming_webhooks (status, received_at DESC);

      CREATE TABLE incoming_webhook_attempts (
        id bigserial PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES incoming_webhooks(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        status text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        error text,
        log jsonb NOT NULL DEFAULT '[]',
        UNIQUE (webhook_id, attempt)
      );

      CREATE TABLE inbound_requests (
        id bigserial PRIMARY KEY,
        integration_id uuid REFERENCES integrations(id) ON DELETE SET NULL,
        provider text NOT NULL,
        method text NOT NULL,
        path text NOT NULL,
        headers jsonb NOT NULL,
        body text NOT NULL,
        body_bytes integer NOT NULL,
        remote_addr text,
        received_at timestamptz NOT NULL DEFAULT now(),
        duration_ms integer,
        response_status integer NOT NULL,
        response_body text,
        outcome text NOT NULL,
        incoming_webhook_id uuid REFERENCES incoming_webhooks(id) ON DELETE SET NULL
      );
      CREATE INDEX inbound_requests_received_idx ON inbound_requests (received_at DESC, id);
      CREATE INDEX inbound_requests_integration_idx ON inbound_requests (integration_id, received_at DESC);
    `,
};
