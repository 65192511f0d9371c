import type { Config } from '../platform/config';
import type { Db } from '../platform/db/pool';
import type { IntegrationRow } from './db/integrations';
import { safeRequest } from '../platform/http/safe-request';
import type { SecretBox } from '../platform/security/secret-box';
import { getAccessToken, invalidateAccessToken, type OAuthClient, type TokenDeps } from './oauth-tokens';
import {
  ProviderRateLimitedError,
  type ProviderCaller,
  type ProviderSecrets,
  type ProviderSettings,
} from './provider-types';
import { budgetKey } from './providers';
import { providerPolicy } from './provider-hosts';
import { absorbRemaining, acquireBudget, blockBudget, releaseLease, rulesFor, type BudgetSpec } from './rate-budget';
import type { SafeResponse } from '../platform/http/safe-request';

/** Everything a provider API call needs from the process: database, secrets, HTTP policy, tunables. */
export interface ProviderRuntime extends TokenDeps {
  maxResponseBytes: number;
  rateInlineWaitMs: number;
  rateWindowMarginMs: number;
}

/** The provider runtime tunables from the configuration (the worker's and the API's). */
export function providerRuntime(config: Config, db: Db, secrets: SecretBox): ProviderRuntime {
  return {
    db,
    secrets,
    policy: providerPolicy(config),
    timeoutMs: config.OUTBOUND_TIMEOUT_MS,
    maxResponseBytes: config.PROVIDER_RESPONSE_MAX_BYTES,
    tokenSkewSeconds: config.PROVIDER_TOKEN_REFRESH_SKEW_SECONDS,
    tokenLeaseSeconds: config.PROVIDER_TOKEN_LEASE_SECONDS,
    rateInlineWaitMs: config.PROVIDER_RATE_INLINE_WAIT_MS,
    rateWindowMarginMs: config.PROVIDER_RATE_WINDOW_MARGIN_MS,
  };
}

// Xero and QuickBooks both advise a minute's pause when a 429 carries no usable Retry-After.
const DEFAULT_RETRY_AFTER_MS = 60_000;

/** Reads `Retry-After` as seconds or an HTTP date. */
export function retryAfterMs(header: string | undefined, nowMs = Date.now()): number {
  if (!header) return DEFAULT_RETRY_AFTER_MS;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Math.max(1000, Math.ceil(Number(header) * 1000));
  const at = Date.parse(header);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_MS : Math.max(1000, at - nowMs);
}

export function oauthClient(
  integration: IntegrationRow,
  settings: ProviderSettings,
  secrets: ProviderSecrets,
): OAuthClient {
  return {
    integrationId: integration.id,
    tokenUrl: settings.tokenUrl,
    clientId: settings.clientId,
    clientSecret: secrets.clientSecret,
    grantType: settings.grantType,
    scope: settings.scope,
    initialRefreshToken: secrets.refreshToken,
  };
}

/**
 * A caller for one integration and tenant: each request carries a valid bearer token and is
 * counted against the tenant's shared budget; a 429 blocks the budget for `Retry-After` and
 * surfaces as ProviderRateLimitedError; a 401 refreshes the token and tries once more.
 */
export function providerCaller(
  rt: ProviderRuntime,
  integration: IntegrationRow,
  settings: ProviderSettings,
  secrets: ProviderSecrets,
  tenantId: string,
): ProviderCaller {
  const client = oauthClient(integration, settings, secrets);
  const budget: BudgetSpec = {
    key: budgetKey(integration.provider, settings.clientId, tenantId),
    rules: rulesFor(settings.rateLimits),
    concurrent: settings.rateLimits.concurrent,
    // A lease covers one request; a crashed worker's slot comes back soon after its timeout.
    leaseMs: rt.timeoutMs + 5_000,
    marginMs: rt.rateWindowMarginMs,
  };
  const base = settings.apiBaseUrl.replace(/\/+$/, '');

  return async (req) => {
    for (let tryNo = 1; ; tryNo++) {
      const token = await getAccessToken(rt, client);
      const url = new URL(`${base}${req.path}`);
      for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
      const leaseId = await acquireBudget(rt.db, budget, rt.rateInlineWaitMs);
      let res;
      try {
        res = await safeRequest({
          method: req.method,
          url: url.toString(),
          headers: { ...req.headers, authorization: `Bearer ${token.accessToken}` },
          ...(req.body === undefined ? {} : { body: req.body }),
          timeoutMs: rt.timeoutMs,
          maxResponseBytes: rt.maxResponseBytes,
          policy: rt.policy,
        });
      } finally {
        await releaseLease(rt.db, leaseId);
      }
      await followRemaining(rt.db, integration.provider, budget, res);
      if (res.status === 429) {
        const wait = retryAfterMs(res.headers['retry-after']);
        const problem = res.headers['x-rate-limit-problem'] ?? 'throttled';
        await blockBudget(rt.db, budget.key, wait, `429 ${problem}`);
        throw new ProviderRateLimitedError(wait, problem, true);
      }
      if (res.status === 401 && tryNo === 1) {
        await invalidateAccessToken(rt, integration.id, token);
        continue;
      }
      return res;
    }
  };
}

// Xero states what is left of each limit on every answer; the budget follows it.
const XERO_REMAINING = [
  ['x-minlimit-remaining', 'minute'],
  ['x-daylimit-remaining', 'day'],
] as const;
// The app-wide minute limit is shared by all tenants: at zero, no tenant should call for a minute.
const APP_MINUTE_MS = 60_000;

async function followRemaining(db: Db, provider: string, budget: BudgetSpec, res: SafeResponse): Promise<void> {
  if (provider !== 'xero') return;
  for (const [header, rule] of XERO_REMAINING) {
    const value = res.headers[header];
    if (value !== undefined && /^\d{1,9}$/.test(value.trim())) await absorbRemaining(db, budget, rule, Number(value));
  }
  const app = res.headers['x-appminlimit-remaining'];
  if (app !== undefined && app.trim() === '0' && res.status !== 429) {
    await blockBudget(db, budget.key, APP_MINUTE_MS, 'appminute (X-AppMinLimit-Remaining: 0)');
  }
}
