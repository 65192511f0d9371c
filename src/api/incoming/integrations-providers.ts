import { z } from 'zod';
import type { IntegrationRow } from '../../incoming/db/integrations';
import type { Db } from '../../platform/db/pool';
import {
  assertSafeUrl,
  BlockedDestinationError,
  UnpinnedHostError,
  type DestinationPolicy,
} from '../../platform/http/safe-request';
import { pinnedToProvider } from '../../incoming/provider-hosts';
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
  /** The provider policy: the outbound guard plus the pinned provider hosts. */
  outbound: DestinationPolicy;
}

// URLs the server calls with the client secret or a token go through the destination guard,
// held to the provider's own hosts; the authorize URL is only opened in the admin's browser (its
// scheme is checked by the settings schema).
const SERVER_URLS = ['tokenUrl', 'apiBaseUrl', 'connectionsUrl', 'revocationUrl'] as const;
type ServerUrls = Partial<Record<(typeof SERVER_URLS)[number], string>>;

function checkUrls(provider: 'xero' | 'quickbooks', settings: ServerUrls, policy: DestinationPolicy) {
  const pinned = pinnedToProvider(policy, provider);
  for (const field of SERVER_URLS) {
    const url = settings[field];
    if (url === undefined) continue;
    try {
      assertSafeUrl(url, pinned);
    } catch (err) {
      if (err instanceof UnpinnedHostError)
        throw new HttpError(400, 'provider_host_not_allowed', `settings.${field}: ${err.message}`);
      if (err instanceof BlockedDestinationError)
        throw new HttpError(400, 'blocked_destination', `settings.${field}: ${err.message}`);
      throw err;
    }
  }
}

/**
 * The stored client secret and tokens go to these URLs: moving one is only accepted from a caller
 * who can state the client secret, so a credential that can edit settings cannot send the stored
 * secrets elsewhere.
 */
function requireSecretForMovedUrls(before: ServerUrls, after: ServerUrls, clientSecret: string | undefined) {
  const moved = SERVER_URLS.filter((f) => after[f] !== before[f]);
  if (moved.length === 0 || clientSecret !== undefined) return;
  const fields = moved.map((f) => `settings.${f}`);
  throw new HttpError(
    400,
    'secret_required',
    `Changing ${fields.join(', ')} sends the integration's secrets to a new host: send clientSecret in the same request`,
    { fields, secret: 'clientSecret' },
  );
}

/** Checks the URLs the server would call, then stores the integration. */
export async function createFromRequest(deps: Deps, body: ProviderCreate): Promise<IntegrationRow> {
  checkUrls(body.provider, body.settings, deps.outbound);
  return createProviderIntegration(deps, {
    ...body,
    webhookKey: body.provider === 'xero' ? body.webhookKey : body.verifierToken,
  });
}

/** Parses a PATCH for a provider integration, validates the merged settings, then stores it. */
export async function updateFromRequest(deps: Deps, existing: IntegrationRow, raw: unknown): Promise<IntegrationRow> {
  const body = parseOr400(updateProvider, raw);
  const provider = existing.provider === 'xero' ? 'xero' : 'quickbooks';
  const wrongKey = provider === 'xero' ? body.verifierToken : body.webhookKey;
  if (wrongKey !== undefined) {
    const field = provider === 'xero' ? 'verifierToken' : 'webhookKey';
    throw new HttpError(400, 'validation_failed', `${field} does not apply to a ${provider} integration`);
  }
  let settings: Record<string, unknown> | undefined;
  if (body.settings) {
    const schema = provider === 'xero' ? xeroSettingsSchema : quickBooksSettingsSchema;
    const merged = parseOr400(schema, { ...existing.settings, ...body.settings }, 'settings');
    checkUrls(provider, merged, deps.outbound);
    const stored = schema.safeParse(existing.settings);
    requireSecretForMovedUrls(stored.success ? stored.data : existing.settings, merged, body.clientSecret);
    settings = merged;
  }
  return updateProviderIntegration(deps, existing, {
    ...body,
    webhookKey: body.webhookKey ?? body.verifierToken,
    settings,
  });
}
