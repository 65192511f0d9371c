import type { Migration } from './migration';

export const m0003: Migration = {
  id: 3,
  name: 'incoming-providers',
  legacyId: 3,
  sql: `
      -- Provider webhooks: which tenant/realm an event belongs to and when the provider says it happened.
      ALTER TABLE incoming_webhooks
        ADD COLUMN tenant_id text,
        ADD COLUMN event_at timestamptz,
        ADD COLUMN manual_retries integer NOT NULL DEFAULT 0;
      CREATE INDEX incoming_webhooks_entity_idx ON incoming_webhooks (integration_id, entity_id);

      -- OAuth2 tokens per integration; the refresh lease makes one worker refresh while others wait.
      CREATE TABLE provider_tokens (
        integration_id uuid PRIMARY KEY REFERENCES integrations(id) ON DELETE CASCADE,
        tokens_enc text,
        access_expires_at timestamptz,
        refresh_lease_owner text,
        refresh_lease_until timestamptz,
        refresh_count integer NOT NULL DEFAULT 0,
        last_refreshed_at timestamptz,
        last_error text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- The entity as last processed: its provider version decides whether a webhook is stale.
      CREATE TABLE provider_entities (
        integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        tenant_id text NOT NULL,
        entity_type text NOT NULL,
        entity_id text NOT NULL,
        data jsonb,
        deleted boolean NOT NULL DEFAULT false,
        resource_updated_at timestamptz NOT NULL,
        resource_seq bigint NOT NULL DEFAULT 0,
        downloaded_at timestamptz NOT NULL,
        last_webhook_id uuid,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (integration_id, tenant_id, entity_type, entity_id)
      );

      -- "Resource data": what each attempt downloaded, with the download date.
      CREATE TABLE incoming_webhook_resources (
        id bigserial PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES incoming_webhooks(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        entity_type text NOT NULL,
        entity_id text NOT NULL,
        data jsonb NOT NULL,
        resource_updated_at timestamptz,
        resource_version text,
        downloaded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (webhook_id, attempt, entity_type, entity_id)
      );

      -- Rate budgets per provider tenant/realm, shared by every worker.
      CREATE TABLE provider_rate_budgets (
        key text PRIMARY KEY,
        blocked_until timestamptz,
        blocked_reason text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE provider_rate_calls (
        key text NOT NULL,
        at timestamptz NOT NULL
      );
      CREATE INDEX provider_rate_calls_idx ON provider_rate_calls (key, at);
      CREATE TABLE provider_rate_leases (
        id uuid PRIMARY KEY,
        key text NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX provider_rate_leases_key_idx ON provider_rate_leases (key);
    `,
};
