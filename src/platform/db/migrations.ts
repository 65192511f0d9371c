import { INTAKE_SQL } from './schema/intake-schema';
import { ATTACHMENTS_SQL, RETENTION_SQL } from './schema/admin-schema';
import { MAILBOXES_SQL } from './schema/mailbox-schema';
import { EFFECT_LEDGER_SQL } from './schema/recovery-schema';

/** Ordered, append-only schema migrations. Never edit one that has shipped; add the next. */
export const migrations: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  {
    id: 1,
    name: 'foundation',
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
  },
  {
    id: 2,
    name: 'outgoing-webhooks',
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
  },
  {
    id: 3,
    name: 'incoming-providers',
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
  },
  {
    id: 4,
    name: 'mailboxes',
    sql: MAILBOXES_SQL,
  },
  {
    id: 10,
    name: 'intake-outbox',
    sql: INTAKE_SQL,
  },
  {
    id: 80,
    name: 'overview-indexes',
    sql: `
      -- The overview reads deliveries in a time window across webhooks, and the newest failures.
      CREATE INDEX IF NOT EXISTS deliveries_created_idx ON deliveries (created_at);
      CREATE INDEX IF NOT EXISTS deliveries_failed_idx ON deliveries (updated_at DESC, id DESC) WHERE status = 'failed';
      CREATE INDEX IF NOT EXISTS incoming_webhooks_failed_idx ON incoming_webhooks (updated_at DESC, id DESC)
        WHERE status = 'failed';
      CREATE INDEX IF NOT EXISTS inbound_mail_failed_idx ON inbound_mail (updated_at DESC, id DESC) WHERE status = 'failed';
      CREATE INDEX IF NOT EXISTS inbound_mail_queued_idx ON inbound_mail (first_seen_at) WHERE status = 'queued';
    `,
  },
  {
    id: 50,
    name: 'provider-connect',
    sql: `
      -- Pending "Connect to Xero/QuickBooks" sign-ins: the state (hashed), the PKCE verifier
      -- (encrypted) and where the browser goes afterwards. A state is good for one callback.
      CREATE TABLE provider_connect_requests (
        state_hash text PRIMARY KEY,
        integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        provider text NOT NULL,
        verifier_enc text NOT NULL,
        redirect_uri text NOT NULL,
        return_to text,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX provider_connect_requests_expiry_idx ON provider_connect_requests (expires_at);

      -- Every stored token set gets the next generation: a refresh stores its rotated token only
      -- when the generation it refreshed from is still current (compare-and-set), lease or not.
      -- connected_* record a sign-in through the Connect flow (when, and the tenant/realm chosen).
      ALTER TABLE provider_tokens
        ADD COLUMN generation bigint NOT NULL DEFAULT 0,
        ADD COLUMN connected_at timestamptz,
        ADD COLUMN connected_tenant_id text;
    `,
  },
  {
    id: 30,
    name: 'abuse limits per source address',
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
  },
  {
    id: 20,
    name: 'delivery-lanes',
    sql: `
      -- One lane per webhook works from these columns: what is due (status, next_attempt_at), in what
      -- order (seq), which attempt of the current round (round_attempts) and who holds it (claimed_until).
      ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_status_check;
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'in_flight', 'retrying', 'succeeded', 'failed', 'held'));
      CREATE SEQUENCE deliveries_seq;
      ALTER TABLE deliveries
        ADD COLUMN seq bigint NOT NULL DEFAULT nextval('deliveries_seq'),
        ADD COLUMN round_attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN claimed_until timestamptz;
      ALTER SEQUENCE deliveries_seq OWNED BY deliveries.seq;
      UPDATE deliveries SET next_attempt_at = now() WHERE status = 'pending' AND next_attempt_at IS NULL;
      CREATE INDEX deliveries_lane_idx ON deliveries (webhook_id, seq) WHERE status IN ('pending', 'in_flight', 'retrying');
    `,
  },
  {
    id: 40,
    name: 'exactly-once-activities',
    sql: `
      -- What an activity execution finished, keyed by <workflowId>/<runId>/<activityId>[#step]:
      -- a re-run after a lost completion returns it instead of repeating the work or its effects.
      CREATE TABLE activity_effects (
        key text PRIMARY KEY,
        result jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX activity_effects_created_idx ON activity_effects (created_at);

      -- Every execution of an attempt gets its own row; re-runs (Temporal retrying the same
      -- activity after a lost worker or completion) are marked so the log tells the truth.
      ALTER TABLE incoming_webhook_attempts
        ADD COLUMN execution integer NOT NULL DEFAULT 1,
        ADD COLUMN rerun boolean NOT NULL DEFAULT false;
      ALTER TABLE incoming_webhook_attempts DROP CONSTRAINT incoming_webhook_attempts_webhook_id_attempt_key;
      ALTER TABLE incoming_webhook_attempts ADD CONSTRAINT incoming_webhook_attempts_execution_key
        UNIQUE (webhook_id, attempt, execution);
    `,
  },
  {
    id: 41,
    name: 'outbound-effect-ledger',
    sql: EFFECT_LEDGER_SQL,
  },
  {
    id: 60,
    name: 'email-attachments',
    sql: ATTACHMENTS_SQL,
  },
  {
    id: 61,
    name: 'retention-and-mailbox-gaps',
    sql: RETENTION_SQL,
  },
  {
    id: 90,
    name: 'lane-polling-marks',
    sql: `
      -- A lane in a round marks itself here while it polls its queue (src/outgoing/db/lane-rounds.ts):
      -- the intake starter does not signal a lane that will see the new work anyway.
      CREATE TABLE lane_rounds (
        webhook_id uuid PRIMARY KEY REFERENCES webhooks(id) ON DELETE CASCADE,
        polling_until timestamptz NOT NULL
      );
    `,
  },
  {
    id: 91,
    name: 'lightweight-batch-items',
    sql: `
      -- A lightweight-log webhook keeps no bodies: once its batch delivery has finished, the
      -- items it carried lose theirs too (the delivery's own payload is dropped by migration 61).
      ALTER TABLE batch_items ALTER COLUMN item DROP NOT NULL;
      CREATE FUNCTION batch_items_drop_lightweight_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE batch_items SET item = NULL WHERE delivery_id = NEW.id AND item IS NOT NULL;
        RETURN NULL;
      END $$;
      CREATE TRIGGER deliveries_lightweight_batch_items AFTER UPDATE OF finished_at ON deliveries
        FOR EACH ROW WHEN (NEW.lightweight AND NEW.group_key IS NOT NULL AND NEW.finished_at IS NOT NULL)
        EXECUTE FUNCTION batch_items_drop_lightweight_bodies();
      UPDATE batch_items b SET item = NULL FROM deliveries d
        WHERE b.delivery_id = d.id AND d.lightweight AND d.finished_at IS NOT NULL AND b.item IS NOT NULL;
    `,
  },
  {
    id: 92,
    name: 'statement-abort',
    sql: `
      -- Lets one statement undo all it wrote: a provider webhook's one-statement intake
      -- (src/incoming/provider-intake-statement.ts) calls it when only some of its events were new.
      CREATE FUNCTION switchyard_abort_statement(reason text) RETURNS boolean LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = 'SY001', MESSAGE = reason;
      END $$;
    `,
  },
  {
    id: 230,
    name: 'trust-boundaries',
    sql: `
      -- How a generic integration's webhooks are signed. Rows that exist keep the body-only
      -- HMAC their senders use; new ones are created with Standard Webhooks (id and time signed).
      ALTER TABLE integrations ADD COLUMN signature_scheme text
        CHECK (signature_scheme IN ('standard-webhooks', 'body-hmac'));
      UPDATE integrations SET signature_scheme = 'body-hmac' WHERE provider = 'generic';

      -- A consent flow's state is good only in the browser that started it: the SHA-256 of the
      -- nonce its cookie carries. Pending rows from before have none and are refused (they expire).
      ALTER TABLE provider_connect_requests ADD COLUMN browser_hash text;
      ALTER TABLE mailbox_auth_requests ADD COLUMN browser_hash text;
    `,
  },
];
