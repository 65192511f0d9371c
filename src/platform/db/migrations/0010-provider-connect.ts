import type { Migration } from './migration';

export const m0010: Migration = {
  id: 10,
  name: 'provider-connect',
  legacyId: 50,
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
};
