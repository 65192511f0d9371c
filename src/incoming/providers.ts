import type { IntegrationRow } from './db/integrations';
import type { SecretBox } from '../platform/security/secret-box';
import { quickBooksAdapter } from './quickbooks/provider';
import { quickBooksSettingsSchema } from './quickbooks/settings';
import type { ProviderAdapter, ProviderSecrets, ProviderSettings } from './provider-types';
import { xeroAdapter } from './xero/provider';
import { xeroSettingsSchema } from './xero/settings';

/** AAD binding an integration's encrypted secrets to its row (the same as the generic integration's). */
export const providerSecretsAad = (integrationId: string) => `integration:${integrationId}`;

export class NotAProviderIntegrationError extends Error {
  override name = 'NotAProviderIntegrationError';
}

export interface ResolvedProvider {
  adapter: ProviderAdapter;
  settings: ProviderSettings;
}

// Per row object: ingress reads an integration through a one-second cache, so a burst of
// requests shares one row, and parsing its settings and decrypting its secrets once per row
// instead of once per request saves a good share of each request's CPU. A changed integration is
// a new row object, so nothing stale is kept.
const resolvedByRow = new WeakMap<IntegrationRow, ResolvedProvider>();
const secretsByRow = new WeakMap<IntegrationRow, object>();

/** The adapter and parsed settings of a Xero or QuickBooks integration. */
export function resolveProvider(integration: IntegrationRow): ResolvedProvider {
  let resolved = resolvedByRow.get(integration);
  if (!resolved) {
    resolved = Object.freeze(parseProvider(integration));
    resolvedByRow.set(integration, resolved);
  }
  return resolved;
}

function parseProvider(integration: IntegrationRow): ResolvedProvider {
  if (integration.provider === 'xero') {
    return { adapter: xeroAdapter, settings: xeroSettingsSchema.parse(integration.settings) };
  }
  if (integration.provider === 'quickbooks') {
    const settings = quickBooksSettingsSchema.parse(integration.settings);
    return { adapter: quickBooksAdapter(settings.minorVersion), settings };
  }
  throw new NotAProviderIntegrationError(
    `integration ${integration.id} is ${integration.provider}, not xero or quickbooks`,
  );
}

export function providerSecrets(secrets: SecretBox, integration: IntegrationRow): ProviderSecrets {
  return integrationSecrets<ProviderSecrets>(secrets, integration);
}

/** Any integration's decrypted secrets (generic: its signing secret), once per row object. */
export function integrationSecrets<T extends object>(secrets: SecretBox, integration: IntegrationRow): T {
  let decrypted = secretsByRow.get(integration);
  if (!decrypted) {
    decrypted = Object.freeze(secrets.decryptJson<T>(integration.secrets_enc, providerSecretsAad(integration.id)));
    secretsByRow.set(integration, decrypted);
  }
  return decrypted as T;
}

/** The rate budget a call counts against: limits are per app (client id) and tenant/realm. */
export const budgetKey = (provider: string, clientId: string, tenantId: string) =>
  `${provider}:${clientId}:${tenantId}`;
