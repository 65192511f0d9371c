import { z } from 'zod';
import type { IntegrationRow } from '../../incoming/db/integrations';
import type { Db } from '../../platform/db/pool';
import { assertSafeUrl, BlockedDestinationError, type DestinationPolicy } from '../../platform/http/safe-request';
import { quickBooksSettingsSchema } from '../../incoming/quickbooks/settings';
import { xeroSettingsSchema } from '../../incoming/xero/settings';
import type { SecretBox } from '../../platform/security/secret-box';
import { PROCESSING_METHODS } from '../../incoming/processing-methods';
import { createProviderIntegration, updateProviderIntegration } from '../../incoming/provider-integration-service';
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

/** Checks the URLs the server would call, then stores the integration. */
export async function createFromRequest(deps: Deps, body: ProviderCreate): Promise<IntegrationRow> {
  checkUrls(body.settings, deps.outbound);
  return createProviderIntegration(deps, {
    ...body,
    webhookKey: body.provider === 'xero' ? body.webhookKey : body.verifierToken,
  });
}

/** Parses a PATCH for a provider integration, validates the merged settings, then stores it. */
export async function updateFromRequest(deps: Deps, existing: IntegrationRow, raw: unknown): Promise<IntegrationRow> {
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
  return updateProviderIntegration(deps, existing, {
    ...body,
    webhookKey: body.webhookKey ?? body.verifierToken,
    settings,
  });
}
