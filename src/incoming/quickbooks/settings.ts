import { z } from 'zod';
import type { ProviderSettings } from '../provider-types';

/** QuickBooks entities Switchyard can fetch (names as QuickBooks spells them). */
export const QUICKBOOKS_ENTITY_TYPES = ['Invoice', 'Customer', 'CreditMemo', 'Payment', 'Estimate'] as const;

export const QUICKBOOKS_DEFAULTS = {
  tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
  apiBaseUrl: 'https://quickbooks.api.intuit.com',
  // The Connect flow: Intuit's consent page; the realm comes back on the callback.
  authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
  revocationUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
  connectScope: 'com.intuit.quickbooks.accounting',
  // QuickBooks: 500 requests/minute and 10/second per realm, 10 concurrent.
  rateLimits: { perMinute: 500, perSecond: 10, concurrent: 10 },
  // `Id in (...)` lists are kept to the /batch limit of 30 operations.
  maxIdsPerCall: 30,
  minorVersion: 75,
};

/** The hosts Intuit's client secret and tokens may be sent to (the authorize URL is only opened in a browser). */
export const QUICKBOOKS_HOSTS = [
  'oauth.platform.intuit.com',
  'quickbooks.api.intuit.com',
  'sandbox-quickbooks.api.intuit.com',
  'developer.api.intuit.com',
] as const;

const positive = (max: number) => z.number().int().min(1).max(max);

/** Stored (and returned) QuickBooks settings; secrets travel separately. */
export const quickBooksSettingsSchema = z
  .object({
    clientId: z.string().trim().min(1).max(200),
    grantType: z.literal('refresh_token').default('refresh_token'),
    entityTypes: z
      .array(z.enum(QUICKBOOKS_ENTITY_TYPES))
      .min(1)
      .default(['Invoice', 'Customer'])
      .transform((list) => [...new Set(list)]),
    realmIds: z
      .array(z.string().regex(/^\d{1,30}$/, { error: 'must be a numeric realm id' }))
      .max(1000)
      .optional(),
    tokenUrl: z.url().default(QUICKBOOKS_DEFAULTS.tokenUrl),
    apiBaseUrl: z.url().default(QUICKBOOKS_DEFAULTS.apiBaseUrl),
    authorizeUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .default(QUICKBOOKS_DEFAULTS.authorizeUrl),
    revocationUrl: z.url().default(QUICKBOOKS_DEFAULTS.revocationUrl),
    minorVersion: positive(1000).default(QUICKBOOKS_DEFAULTS.minorVersion),
    rateLimits: z
      .object({
        perMinute: positive(100_000).default(QUICKBOOKS_DEFAULTS.rateLimits.perMinute),
        perSecond: positive(10_000).default(QUICKBOOKS_DEFAULTS.rateLimits.perSecond),
        concurrent: positive(100).default(QUICKBOOKS_DEFAULTS.rateLimits.concurrent),
      })
      .strict()
      .prefault({}),
    maxIdsPerCall: positive(30).default(QUICKBOOKS_DEFAULTS.maxIdsPerCall),
    batchWaitSeconds: z.number().int().min(0).max(3600).optional(),
  })
  .strict();

export type QuickBooksSettings = z.output<typeof quickBooksSettingsSchema> & ProviderSettings;
