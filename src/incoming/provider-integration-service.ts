import { randomUUID } from 'node:crypto';
import { insertIntegration, updateIntegration, type IntegrationRow } from './db/integrations';
import { deleteProviderTokens } from './db/provider-tokens';
import type { ProviderSecrets } from './provider-types';
import { providerSecrets, providerSecretsAad } from './providers';
import type { ProcessingMethod } from './processing-methods';
import type { IntegrationStoreDeps } from './integration-service';

/**
 * Storing Xero and QuickBooks integrations. Their secrets (webhook key or verifier token, client
 * secret, optional refresh token) are sealed together under the integration's id; settings
 * arrive already validated against the provider's schema.
 */

export interface NewProviderIntegration {
  provider: 'xero' | 'quickbooks';
  name: string;
  processingMethod: ProcessingMethod;
  enabled: boolean;
  settings: Record<string, unknown>;
  /** Xero's webhook key or QuickBooks' verifier token: what signs the provider's webhooks. */
  webhookKey: string;
  clientSecret: string;
  refreshToken?: string | undefined;
}

export type ProviderIntegrationPatch = {
  [K in Exclude<keyof NewProviderIntegration, 'provider'>]?: NewProviderIntegration[K] | undefined;
};

// Settings that decide which tokens the provider issues: changing one makes the held tokens stale.
const CREDENTIAL_SETTINGS = ['clientId', 'tokenUrl', 'grantType', 'scope'];
// Hosts the tokens are sent to: tokens obtained for the old ones are not sent to new ones.
const HOST_SETTINGS = ['tokenUrl', 'apiBaseUrl', 'connectionsUrl', 'revocationUrl'];

export async function createProviderIntegration(
  deps: IntegrationStoreDeps,
  fields: NewProviderIntegration,
): Promise<IntegrationRow> {
  const id = randomUUID();
  const stored: ProviderSecrets = {
    webhookKey: fields.webhookKey,
    clientSecret: fields.clientSecret,
    ...(fields.refreshToken ? { refreshToken: fields.refreshToken } : {}),
  };
  return insertIntegration(deps.db, {
    id,
    provider: fields.provider,
    name: fields.name,
    processing_method: fields.processingMethod,
    settings: fields.settings,
    secrets_enc: deps.secrets.encryptJson(stored, providerSecretsAad(id)),
    enabled: fields.enabled,
  });
}

/**
 * Applies the fields given, merging new secrets into the stored ones. New credentials drop the
 * tokens obtained with the old ones (and their rotated refresh token); a moved server URL also
 * drops the stored refresh token, unless the same request brings one.
 */
export async function updateProviderIntegration(
  deps: IntegrationStoreDeps,
  existing: IntegrationRow,
  patch: ProviderIntegrationPatch,
): Promise<IntegrationRow> {
  const { settings } = patch;
  const current = providerSecrets(deps.secrets, existing);
  const hostsMoved = settings !== undefined && HOST_SETTINGS.some((k) => settings[k] !== existing.settings[k]);
  const { refreshToken: _dropped, ...withoutRefresh } = current;
  const next: ProviderSecrets = {
    ...(hostsMoved ? withoutRefresh : current),
    ...(patch.webhookKey ? { webhookKey: patch.webhookKey } : {}),
    ...(patch.clientSecret ? { clientSecret: patch.clientSecret } : {}),
    ...(patch.refreshToken ? { refreshToken: patch.refreshToken } : {}),
  };
  const credentialsChanged =
    hostsMoved ||
    patch.clientSecret !== undefined ||
    patch.refreshToken !== undefined ||
    (settings !== undefined && CREDENTIAL_SETTINGS.some((k) => settings[k] !== existing.settings[k]));
  const row = await updateIntegration(deps.db, existing.id, {
    name: patch.name,
    processing_method: patch.processingMethod,
    settings,
    enabled: patch.enabled,
    secrets_enc:
      patch.webhookKey || patch.clientSecret || patch.refreshToken || (hostsMoved && current.refreshToken)
        ? deps.secrets.encryptJson(next, providerSecretsAad(existing.id))
        : undefined,
  } as Parameters<typeof updateIntegration>[2]);
  if (credentialsChanged) await deleteProviderTokens(deps.db, existing.id);
  return row!;
}
