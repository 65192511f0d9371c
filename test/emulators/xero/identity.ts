/**
 * identity.xero.com: the token endpoint (authorization code with PKCE, rotating refresh
 * tokens, client credentials for custom connections), the consent screen where the user picks
 * organisations, revocation, and the `/connections` list a token can see and disconnect.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Request, Response } from 'express';
import { basicCredentials, formBody, safeEqual } from '../http-helpers';
import type { Latency } from '../provider-emulator';
import { consentEndpoints, revocationEndpoint, tokenEndpoint, type OAuthStats } from '../oauth-server';
import type { AccessGrant, OAuthClient, OAuthTokens, TokenPolicy } from '../oauth-tokens';
import { xeroClockTime } from './dates';
import { problem } from './errors';
import type { XeroLedger } from './ledger';

export interface XeroClient extends OAuthClient {
  /** Reported as `ProviderName` in API envelopes, as Xero reports the app name. */
  name?: string;
  /** Tenants a client-credentials (custom connection) token may reach; all tenants when omitted. */
  tenantIds?: string[];
}

export type TenantScope = readonly string[] | 'all';

/** What a Xero token carries: the consent (authorisation) it descends from and what it covers. */
export interface XeroConsent {
  /** Revocation ends every token of one authorisation. */
  authId: string;
  tenants: TenantScope;
  scope: string;
}

export type XeroTokens = OAuthTokens<XeroConsent>;
export type XeroGrant = AccessGrant<XeroConsent>;

export const XERO_DEFAULT_SCOPE = 'accounting.transactions accounting.contacts';

/** Xero's lifetimes: access 30 minutes, refresh 60 days unused, rotated-out refresh 30 minutes. */
export function xeroTokenPolicy(options: {
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  refreshTokenReuseGraceSeconds?: number;
}): TokenPolicy {
  return {
    accessTtlMs: (options.accessTokenTtlSeconds ?? 1800) * 1000,
    refreshTtlMs: (options.refreshTokenTtlSeconds ?? 60 * 86_400) * 1000,
    authCodeTtlMs: 5 * 60_000,
    reuseGraceMs: (options.refreshTokenReuseGraceSeconds ?? 1800) * 1000,
    graceIncludesEnd: true,
  };
}

/** The caller's grant, or the `Detail` of Xero's 401 problem. */
export function xeroBearer(tokens: XeroTokens, req: Request): { grant: XeroGrant } | { detail: string } {
  const check = tokens.check(req);
  if (check.ok) return { grant: check.grant };
  if (check.reason === 'expired') {
    return { detail: `TokenExpired: token expired at ${xeroClockTime(check.grant.expiresAtMs)}` };
  }
  return { detail: 'AuthenticationUnsuccessful' };
}

export interface XeroIdentityDeps {
  clients: Map<string, XeroClient>;
  tokens: XeroTokens;
  stats: OAuthStats;
  ledger: XeroLedger;
  app: express.Express;
  /** The token endpoint's delay lives in `tokenMs`. */
  latency: Latency;
  takeFault: (res: Response) => boolean;
}

/** Mounts identity.xero.com's endpoints and `/connections` on the emulator's app. */
export function mountXeroIdentity(deps: XeroIdentityDeps): void {
  const { app, clients, tokens, stats, ledger } = deps;
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  // Xero takes client credentials from a Basic header or, failing that, the form.
  const authenticate = (req: Request): XeroClient | undefined => {
    const body = formBody(req);
    const basic = basicCredentials(req);
    const id = basic?.id ?? body['client_id'];
    const secret = basic ? basic.secret : body['client_secret'];
    const client = id === undefined ? undefined : clients.get(id);
    return client && secret !== undefined && safeEqual(secret, client.clientSecret) ? client : undefined;
  };

  app.post(
    '/connect/token',
    form,
    tokenEndpoint<XeroClient, XeroConsent>({
      tokens,
      stats,
      authenticate,
      latencyMs: () => deps.latency.tokenMs,
      takeFault: deps.takeFault,
      redirectUriRequired: false,
      clientCredentials: (client, body) => ({
        authId: randomUUID(),
        tenants: client.tenantIds ?? 'all',
        scope: body['scope'] ?? XERO_DEFAULT_SCOPE,
      }),
      respond: ({ accessToken, refreshToken, consent }) => ({
        access_token: accessToken,
        expires_in: tokens.accessTtlSeconds,
        token_type: 'Bearer',
        scope: consent.scope,
        ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      }),
    }),
  );

  // The consent screen of login.xero.com: the signed-in user picks the organisations to connect.
  const consent = consentEndpoints<XeroClient, XeroConsent>({
    provider: 'Xero',
    action: '/identity/connect/authorize',
    clients,
    tokens,
    stats,
    defaultScope: XERO_DEFAULT_SCOPE,
    badClientText: 'unauthorized_client or invalid redirect_uri',
    stateRequired: false,
    choice: {
      name: 'tenant',
      label: 'Select the organisations to connect',
      multiple: true,
      options: () =>
        [...ledger.tenants.values()].map((d) => ({ value: d.tenant.tenantId, label: d.tenant.tenantName })),
      known: (tenantId) => ledger.tenants.has(tenantId),
    },
    consentFor: (chosen, scope) => ({ authId: randomUUID(), tenants: chosen, scope }),
    redirectExtras: (_consent, answer) => ({ scope: answer['scope'] }),
  });
  app.get('/identity/connect/authorize', consent.authorize);
  app.post('/identity/connect/authorize', form, consent.answer);

  // RFC 7009 revocation: ends the refresh token's whole authorisation (and with it the connections).
  app.post(
    '/connect/revocation',
    form,
    revocationEndpoint<XeroClient, XeroConsent>({
      tokens,
      stats,
      authenticate,
      presentedToken: (req) => formBody(req)['token'],
      unknownTokenError: undefined,
      sameAuthorisation: (grant, presented) => grant.consent.authId === presented.consent.authId,
    }),
  );

  // Connection ids are stable per tenant, so DELETE /connections/{id} can name one.
  const connectionIds = new Map<string, string>();
  const connectionId = (tenantId: string): string => {
    for (const [id, t] of connectionIds) if (t === tenantId) return id;
    const id = randomUUID();
    connectionIds.set(id, tenantId);
    return id;
  };

  app.delete('/connections/:id', (req, res) => {
    const auth = xeroBearer(tokens, req);
    if ('detail' in auth) {
      res.status(401).json(problem(401, auth.detail));
      return;
    }
    const tenantId = connectionIds.get(String(req.params['id']));
    if (!tenantId) {
      res.status(404).json(problem(404, 'Connection not found'));
      return;
    }
    for (const grant of [...tokens.access.values(), ...tokens.refresh.values()]) {
      const { consent: held } = grant;
      if (held.authId === auth.grant.consent.authId && held.tenants !== 'all') {
        held.tenants = held.tenants.filter((t) => t.toLowerCase() !== tenantId.toLowerCase());
      }
    }
    res.status(204).end();
  });
  app.get('/connections', (req, res) => {
    const auth = xeroBearer(tokens, req);
    if ('detail' in auth) {
      res.status(401).json(problem(401, auth.detail));
      return;
    }
    const reach = auth.grant.consent.tenants;
    const visible = [...ledger.tenants.values()].filter((d) => reach === 'all' || reach.includes(d.tenant.tenantId));
    res.json(
      visible.map((d) => ({
        id: connectionId(d.tenant.tenantId),
        authEventId: randomUUID(),
        tenantId: d.tenant.tenantId,
        tenantType: d.tenant.tenantType,
        tenantName: d.tenant.tenantName,
        createdDateUtc: d.tenant.createdDateUtc,
        updatedDateUtc: d.tenant.createdDateUtc,
      })),
    );
  });
}
