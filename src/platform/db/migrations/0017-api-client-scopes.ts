import type { Migration } from './migration';

export const m0017: Migration = {
  id: 17,
  name: 'api-client-scopes',
  sql: `
      -- What a credential may do (src/api/scopes.ts): every existing one keeps working as admin;
      -- an integration credential is bound to its integration and goes with it.
      ALTER TABLE api_clients
        ADD COLUMN scope text NOT NULL DEFAULT 'admin' CHECK (scope IN ('admin', 'read-only', 'integration')),
        ADD COLUMN integration_id uuid REFERENCES integrations(id) ON DELETE CASCADE,
        ADD CONSTRAINT api_clients_integration_scope CHECK ((scope = 'integration') = (integration_id IS NOT NULL));
    `,
};
