/**
 * Intuit's OAuth server: the bearer token endpoint (authorization code with PKCE, rotating
 * refresh tokens; no client credentials), the consent page where the user picks one company
 * (realm), and revocation by JSON body.
 */
import express from 'express';
import type { Request } from 'express';
import { basicCredentials, formBody, safeEqual } from '../http-helpers';
import type { Latency } from '../provider-emulator';
import { consentEndpoints, revocationEndpoint, tokenEndpoint, type OAuthStats } from '../oauth-server';
import type { AccessGrant, OAuthClient, OAuthTokens, TokenPolicy } from '../oauth-tokens';
import { intuitTid } from './errors';
import type { QuickBooksLedger } from './ledger';

export type QuickBooksClient = OAuthClient;

/** What an Intuit token carries: the one company it reaches. */
export interface QuickBooksConsent {
  realmId: string;
  scope: string;
}

export type QuickBooksTokens = OAuthTokens<QuickBooksConsent>;
export type QuickBooksGrant = AccessGrant<QuickBooksConsent>;

export const QUICKBOOKS_DEFAULT_SCOPE = 'com.intuit.quickbooks.accounting';

/** Intuit's lifetimes: access 1 hour, refresh 100 days, no reuse of a rotated-out refresh token by default. */
export function quickBooksTokenPolicy(options: {
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  refreshTokenReuseGraceSeconds?: number;
}): TokenPolicy {
  return {
    accessTtlMs: (options.accessTokenTtlSeconds ?? 3600) * 1000,
    refreshTtlMs: (options.refreshTokenTtlSeconds ?? 100 * 86_400) * 1000,
    authCodeTtlMs: 10 * 60_000,
    reuseGraceMs: (options.refreshTokenReuseGraceSeconds ?? 0) * 1000,
    graceIncludesEnd: false,
    prefixes: { access: 'eyJ', refresh: 'AB11', code: 'AB11' },
  };
}

/** The caller's grant, or the `detail` of Intuit's AuthenticationFailed fault. */
export function quickBooksBearer(
  tokens: QuickBooksTokens,
  req: Request,
): { grant: QuickBooksGrant } | { detail: string } {
  const check = tokens.check(req);
  if (check.ok) return { grant: check.grant };
  if (check.reason === 'expired') return { detail: `Token expired: ${check.token.slice(0, 12)}...` };
  return {
    detail:
      check.reason === 'missing' ? 'Authorization header missing or not a bearer token' : 'Token revoked or invalid',
  };
}

export interface QuickBooksIdentityDeps {
  clients: Map<string, QuickBooksClient>;
  tokens: QuickBooksTokens;
  stats: OAuthStats;
  ledger: QuickBooksLedger;
  app: express.Express;
  /** The token endpoint's delay lives in `tokenMs`. */
  latency: Latency;
  takeFault: (res: express.Response) => boolean;
}

/** Mounts Intuit's OAuth endpoints on the emulator's app. */
export function mountQuickBooksIdentity(deps: QuickBooksIdentityDeps): void {
  const { app, clients, tokens, stats, ledger } = deps;
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  // Intuit takes client credentials from a Basic header only.
  const authenticate = (req: Request): QuickBooksClient | undefined => {
    const basic = basicCredentials(req);
    const client = basic ? clients.get(basic.id) : undefined;
    return client && basic && safeEqual(basic.secret, client.clientSecret) ? client : undefined;
  };

  app.post(
    '/oauth2/v1/tokens/bearer',
    form,
    tokenEndpoint<QuickBooksClient, QuickBooksConsent>({
      tokens,
      stats,
      authenticate,
      latencyMs: () => deps.latency.tokenMs,
      headers: () => ({ intuit_tid: intuitTid() }),
      takeFault: deps.takeFault,
      redirectUriRequired: true,
      respond: ({ accessToken, refreshToken }) => ({
        token_type: 'bearer',
        access_token: accessToken,
        expires_in: tokens.accessTtlSeconds,
        refresh_token: refreshToken,
        x_refresh_token_expires_in: tokens.refreshTtlSeconds,
      }),
    }),
  );

  // Intuit's consent page: the user picks the company (realm) and presses "Allow access".
  const consent = consentEndpoints<QuickBooksClient, QuickBooksConsent>({
    provider: 'Intuit QuickBooks',
    action: '/connect/oauth2',
    clients,
    tokens,
    stats,
    defaultScope: QUICKBOOKS_DEFAULT_SCOPE,
    badClientText: 'invalid client_id or redirect_uri',
    stateRequired: true,
    choice: {
      name: 'realmId',
      label: 'Select a company',
      multiple: false,
      options: () => [...ledger.realms.values()].map((r) => ({ value: r.realmId, label: r.companyName })),
      known: (realmId) => ledger.realms.has(realmId),
    },
    consentFor: ([realmId = ''], scope) => ({ realmId, scope }),
    redirectExtras: (granted) => ({ realmId: granted.realmId }),
  });
  app.get('/connect/oauth2', consent.authorize);
  app.post('/connect/oauth2', form, consent.answer);

  // `POST /v2/oauth2/tokens/revoke` with `{"token": ...}`: ends the app's access to that realm.
  app.post(
    '/v2/oauth2/tokens/revoke',
    express.json({ limit: '16kb' }),
    revocationEndpoint<QuickBooksClient, QuickBooksConsent>({
      tokens,
      stats,
      authenticate,
      presentedToken: (req) => formBody(req)['token'],
      unknownTokenError: 'invalid_token',
      sameAuthorisation: (grant, presented) =>
        grant.clientId === presented.clientId && grant.consent.realmId === presented.consent.realmId,
    }),
  );
}
