import { z } from 'zod';
import type { ProviderSettings } from '../provider-types';

/** Xero event categories Switchyard can process (SUBSCRIPTION events concern the app, not data). */
export const XERO_ENTITY_TYPES = ['INVOICE', 'CONTACT', 'CREDITNOTE'] as const;

export const XERO_DEFAULTS = {
  tokenUrl: 'https://identity.xero.com/connect/token',
  apiBaseUrl: 'https://api.xero.com/api.xro/2.0',
  // The Connect flow: consent in the admin's browser, then the tenants this connection reaches.
  authorizeUrl: 'https://login.xero.com/identity/connect/authorize',
  connectionsUrl: 'https://api.xero.com/connections',
  revocationUrl: 'https://identity.xero.com/connect/revocation',
  connectScope: 'offline_access accounting.transactions accounting.contacts',
  // Xero: 5 concurrent calls, 60/minute and 5,000/day per tenant.
  rateLimits: { perMinute: 60, perDay: 5000, concurrent: 5 },
  // The URL length limit keeps `?IDs=` near 50 GUIDs.
  maxIdsPerCall: 50,
};

/** The hosts Xero's client secret and tokens may be sent to (the authorize URL is only opened in a browser). */
export const XERO_HOSTS = ['identity.xero.com', 'api.xero.com'] as const;

const positive = (max: number) => z.number().int().min(1).max(max);

/** Stored (and returned) Xero settings; secrets travel separately. */
export const xeroSettingsSchema = z
  .object({
    clientId: z.string().trim().min(1).max(200),
    grantType: z.enum(['refresh_token', 'client_credentials']).default('refresh_token'),
    scope: z.string().trim().min(1).max(1000).optional(),
    entityTypes: z
      .array(z.enum(XERO_ENTITY_TYPES))
      .min(1)
      .default([...XERO_ENTITY_TYPES])
      .transform((list) => [...new Set(list)]),
    tenantIds: z
      .array(z.uuid())
      .max(1000)
      .optional()
      .transform((list) => list?.map((t) => t.toLowerCase())),
    tokenUrl: z.url().default(XERO_DEFAULTS.tokenUrl),
    apiBaseUrl: z.url().default(XERO_DEFAULTS.apiBaseUrl),
    authorizeUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default(XERO_DEFAULTS.authorizeUrl),
    connectionsUrl: z.url().default(XERO_DEFAULTS.connectionsUrl),
    revocationUrl: z.url().default(XERO_DEFAULTS.revocationUrl),
    rateLimits: z
      .object({
        perMinute: positive(100_000).default(XERO_DEFAULTS.rateLimits.perMinute),
        perDay: positive(10_000_000).default(XERO_DEFAULTS.rateLimits.perDay),
        concurrent: positive(100).default(XERO_DEFAULTS.rateLimits.concurrent),
      })
      .strict()
      .prefault({}),
    maxIdsPerCall: positive(50).default(XERO_DEFAULTS.maxIdsPerCall),
    batchWaitSeconds: z.number().int().min(0).max(3600).optional(),
  })
  .strict();

export type XeroSettings = z.output<typeof xeroSettingsSchema> & ProviderSettings;
