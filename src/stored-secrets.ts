import { tokensAad } from './incoming/oauth-tokens';
import { verifierAad } from './incoming/provider-connect';
import { providerSecretsAad } from './incoming/providers';
import { mailboxAad } from './mail/graph/msal';
import { webhookSecretsAad } from './outgoing/secrets';
import type { StoredSecretColumn } from './platform/security/key-rotation';

/**
 * Every column that holds a SecretBox ciphertext, with the associated data its owner seals it
 * with: what `npm run keys -- rotate` re-encrypts. A new encrypted column must be listed here.
 */
export const STORED_SECRETS: readonly StoredSecretColumn[] = [
  // Generic and provider integrations share `integration:<id>`.
  { table: 'integrations', column: 'secrets_enc', key: 'id', owner: 'id', aad: providerSecretsAad },
  { table: 'provider_tokens', column: 'tokens_enc', key: 'integration_id', owner: 'integration_id', aad: tokensAad },
  {
    table: 'provider_connect_requests',
    column: 'verifier_enc',
    key: 'state_hash',
    owner: 'integration_id',
    aad: verifierAad,
  },
  { table: 'webhooks', column: 'secrets_enc', key: 'id', owner: 'id', aad: webhookSecretsAad },
  { table: 'mailboxes', column: 'secrets_enc', key: 'id', owner: 'id', aad: mailboxAad.secrets },
  { table: 'mailboxes', column: 'token_cache_enc', key: 'id', owner: 'id', aad: mailboxAad.tokenCache },
  { table: 'mailboxes', column: 'client_state_enc', key: 'id', owner: 'id', aad: mailboxAad.clientState },
  {
    table: 'mailbox_auth_requests',
    column: 'verifier_enc',
    key: 'state_hash',
    owner: 'mailbox_id',
    aad: mailboxAad.pkce,
  },
];
