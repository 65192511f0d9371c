import type { Migration } from './migration';

export const m0020: Migration = {
  id: 20,
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
};
