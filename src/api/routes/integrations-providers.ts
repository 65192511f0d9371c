import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { insertIntegration, updateIntegration, type IntegrationRow } from '../../db/integrations';
import type { Db } from '../../db/pool';
import { deleteProviderTokens } from '../../db/provider-tokens';
import { assertSafeUrl, BlockedDestinationError, type DestinationPolicy } from '../../http/safe-request';
import type { ProviderSecrets } from '../../integrations/provider-types';
import { providerSecrets, providerSecretsAad } from '../../integrations/providers';
import { quickBooksSettingsSchema } from '../../integrations/quickbooks/settings';
import { xeroSettingsSchema } from '../../integrations/xero/settings';
import type { SecretBox } from '../../security/secret-box';
import { PROCESSING_METHODS } from '../../shared/processing-methods';
import { HttpError, parseOr400 } from '../errors';

/**
 * Xero and QuickBooks integrations in the admin API. Secrets (webhook key / verifier token,
 * client secret, refresh token) sit at the top level of a request and are stored encrypted,
 * never returned; everything else is `settings`, returned as stored. The refresh token is
 * optional: without one the integration waits to be connected (the Connect flow); a pasted
 * one keeps working for scripts.
 */

const name = z.string().trim().min(1).max(200);
const secret = (what: string) =>
  z
    .string()
    .min(1, { error: `${what} must not be empty` })
    .max(4000);
const common = {
  name,
  processingMethod: z.enum(PROCESSING_METHODS).default('default'),
  enabled: z.boolean().default(true),
  clientSecret: secret('clientSecret'),
  refreshToken: secret('refreshToken').optional(),
};

const createXero = z
  .object({ provider: z.literal('xero'), ...common, webhookKey: secret('webhookKey'), settings: xeroSettingsSchema })
  .strict();

const createQuickBooks = z
  .object({
    provider: z.literal('quickbooks'),
    ...common,
    verifierToken: secret('verifierToken'),
    settings: quickBooksSettingsSchema,
  })
  .strict();

/** The provider members of the integrations API's discriminated union. */
export const providerCreateSchemas = [createXero, createQuickBooks] as const;
export type ProviderCreate = z.output<typeof createXero> | z.output<typeof createQuickBooks>;

// PATCH: settings are merged into the stored ones and then validated whole.
export const updateProvider = z
  .object({
    name,
    processingMethod: z.enum(PROCESSING_METHODS),
    enabled: z.boolean(),
    webhookKey: secret('webhookKey'),
    verifierToken: secret('verifierToken'),
    clientSecret: secret('clientSecret'),
    refreshToken: secret('refreshToken'),
    settings: z.record(z.string(), z.unknown()),
  })
  .partial()
  .strict();

interface Deps {
  db: Db;
  secrets: SecretBox;
  outbound: DestinationPolicy;
}

// URLs the server calls go through the destination guard; the authorize URL is only opened in
// the admin's browser (its scheme is checked by the settings schema).
const SERVER_URLS = ['tokenUrl', 'apiBaseUrl', 'connectionsUrl', 'revocationUrl'] as const;

function checkUrls(settings: Partial<Record<(typeof SERVER_URLS)[number], string>>, policy: DestinationPolicy) {
  for (const field of SERVER_URLS) {
    const url = settings[field];
    if (url === undefined) continue;
    try {
      assertSafeUrl(url, policy);
    } catch (err) {
      if (err instanceof BlockedDestinationError)
        throw new HttpError(400, 'blocked_destination', `settings.${field}: ${err.message}`);
      throw err;
    }
  }
}

export async function createProviderIntegration(deps: Deps, body: ProviderCreate): Promise<IntegrationRow> {
  checkUrls(body.settings, deps.outbound);
  const id = randomUUID();
  const stored: ProviderSecrets = {
    webhookKey: body.provider === 'xero' ? body.webhookKey : body.verifierToken,
    clientSecret: body.clientSecret,
    ...(body.refreshToken ? { refreshToken: body.refreshToken } : {}),
  };
  return insertIntegration(deps.db, {
    id,
    provider: body.provider,
    name: body.name,
    processing_method: body.processingMethod,
    settings: body.settings,
    secrets_enc: deps.secrets.encryptJson(stored, providerSecretsAad(id)),
    enabled: body.enabled,
  });
}

export async function updateProviderIntegration(
  deps: Deps,
  existing: IntegrationRow,
  raw: unknown,
): Promise<IntegrationRow> {
  const body = parseOr400(updateProvider, raw);
  const wrongKey = existing.provider === 'xero' ? body.verifierToken : body.webhookKey;
  if (wrongKey !== undefined) {
    const field = existing.provider === 'xero' ? 'verifierToken' : 'webhookKey';
    throw new HttpError(400, 'validation_failed', `${field} does not apply to a ${existing.provider} integration`);
  }
  let settings: Record<string, unknown> | undefined;
  if (body.settings) {
    const schema = existing.provider === 'xero' ? xeroSettingsSchema : quickBooksSettingsSchema;
    const merged = parseOr400(schema, { ...existing.settings, ...body.settings }, 'settings');
    checkUrls(merged, deps.outbound);
    settings = merged;
  }
  const current = providerSecrets(deps.secrets, existing);
  const key = body.webhookKey ?? body.verifierToken;
  const next: ProviderSecrets = {
    ...current,
    ...(key ? { webhookKey: key } : {}),
    ...(body.clientSecret ? { clientSecret: body.clientSecret } : {}),
    ...(body.refreshToken ? { refreshToken: body.refreshToken } : {}),
  };
  const credentialsChanged =
    body.clientSecret !== undefined ||
    body.refreshToken !== undefined ||
    (settings !== undefined &&
      ['clientId', 'tokenUrl', 'grantType', 'scope'].some((k) => settings![k] !== existing.settings[k]));
  const row = await updateIntegration(deps.db, existing.id, {
    name: body.name,
    processing_method: body.processingMethod,
    settings,
    enabled: body.enabled,
    secrets_enc:
      key || body.clientSecret || body.refreshToken
        ? deps.secrets.encryptJson(next, providerSecretsAad(existing.id))
        : undefined,
  } as Parameters<typeof updateIntegration>[2]);
  // New credentials: tokens obtained with the old ones (and their rotated refresh token) are dropped.
  if (credentialsChanged) await deleteProviderTokens(deps.db, existing.id);
  return row!;
}
