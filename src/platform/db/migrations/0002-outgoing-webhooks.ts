import type { Migration } from './migration';

export const m0002: Migration = {
  id: 2,
  name: 'outgoing-webhooks',
  legacyId: 2,
  sql: `
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        url text NOT NULL,
        config jsonb NOT NULL,
        event_types text[] NOT NULL,
        lightweight_logs boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        auto_disable_threshold integer NOT NULL DEFAULT 0,
        consecutive_failures integer NOT NULL DEFAULT 0,
        disabled_reason text,
        disabled_at timestamptz,
        disabled_by_delivery uuid,
        secrets_enc text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX webhooks_event_types_idx ON webhooks USING gin (event_types);
      CREATE INDEX webhooks_created_idx ON webhooks (created_at DESC, id);

      CREATE TABLE events (
        id uuid PRIMARY KEY,
        type text NOT NULL,
        object_type text NOT NULL,
        object_id text NOT NULL,
        data jsonb NOT NULL,
        idempotency_key text UNIQUE,
        source text,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX events_created_idx ON events (created_at DESC, id);

      CREATE TABLE deliveries (
        id uuid PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id uuid REFERENCES events(id) ON DELETE CASCADE,
        group_key text,
        event_type text,
        object_id text,
        item_count integer NOT NULL DEFAULT 1,
        workflow_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'held')),
        lightweight boolean NOT NULL,
        payload text,
        attempt_count integer NOT NULL DEFAULT 0,
        resend_count integer NOT NULL DEFAULT 0,
        last_response_status integer,
        last_error text,
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        UNIQUE (webhook_id, event_id),
        CHECK ((event_id IS NULL) <> (group_key IS NULL))
      );
      CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, created_at DESC, id);
      CREATE INDEX deliveries_status_idx ON deliveries (webhook_id, status, finished_at);

      CREATE TABLE delivery_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        duration_ms integer,
        request jsonb,
        response_status integer,
        response_headers jsonb,
        response_body text,
        response_truncated boolean,
        error text,
        UNIQUE (delivery_id, attempt)
      );

      CREATE TABLE batch_items (
        id uuid PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        group_key text NOT NULL,
        event_type text NOT NULL,
        item jsonb NOT NULL,
        delivery_id uuid REFERENCES deliveries(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (webhook_id, event_id)
      );
      CREATE INDEX batch_items_pending_idx ON batch_items (webhook_id, group_key, created_at) WHERE delivery_id IS NULL;
      CREATE INDEX batch_items_delivery_idx ON batch_items (delivery_id);
    `,
};
