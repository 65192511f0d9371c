/**
 * The OAuth2 endpoints both provider emulators serve the same way: the token endpoint
 * (authorization code with PKCE, rotating refresh tokens, optionally client credentials), the
 * consent screen behind the authorize endpoint, and revocation. Each provider supplies what
 * really differs: paths, client authentication, the token response shape and error texts.
 */
import type { Request, RequestHandler, Response } from 'express';
import { delay, formBody, queryStrings } from './http-helpers';
import { consentPage, readChallenge, redirectBack, type ConsentChoice } from './oauth-consent';
import type { AccessGrant, OAuthClient, OAuthTokens, RefreshGrant } from './oauth-tokens';

/** What the identity side of an emulator counts. */
export interface OAuthStats {
  tokenGrants: number;
  tokenRefreshes: number;
  tokenGrantsByType: Record<string, number>;
  tokenErrors: number;
  /** Tokens revoked through the revocation endpoint. */
  revocations: number;
  /** Consent screens shown by the authorize endpoint, and how they were answered. */
  consentsShown: number;
  consentsAllowed: number;
  consentsDenied: number;
}

export function emptyOAuthStats(): OAuthStats {
  return {
    tokenGrants: 0,
    tokenRefreshes: 0,
    tokenGrantsByType: {},
    tokenErrors: 0,
    revocations: 0,
    consentsShown: 0,
    consentsAllowed: 0,
    consentsDenied: 0,
  };
}

/** Tokens just issued, for the provider to shape into its token response. */
export interface IssuedTokens<G> {
  accessToken: string;
  /** Absent for client-credentials grants, which carry no refresh token. */
  refreshToken: string | undefined;
  consent: G;
}

export interface TokenEndpointConfig<C extends OAuthClient, G extends object> {
  tokens: OAuthTokens<G>;
  stats: OAuthStats;
  authenticate: (req: Request) => C | undefined;
  /** Delay before answering; the grant is decided after it, as a slow server would. */
  latencyMs: () => number;
  /** Headers every answer carries besides `Cache-Control: no-store`. */
  headers?: () => Record<string, string>;
  /** Answers with an injected fault instead, when one is queued. */
  takeFault: (res: Response) => boolean;
  /** QuickBooks refuses a code exchange without `redirect_uri`; Xero checks it only when the code named one. */
  redirectUriRequired: boolean;
  /** The consent a client-credentials grant carries; providers without that grant leave it out. */
  clientCredentials?: (client: C, body: Record<string, string | undefined>) => G;
  respond: (issued: IssuedTokens<G>) => object;
}

/** The token endpoint: exchanges codes, rotates refresh tokens and answers RFC 6749 errors. */
export function tokenEndpoint<C extends OAuthClient, G extends object>(
  config: TokenEndpointConfig<C, G>,
): RequestHandler {
  const { tokens, stats } = config;
  return async (req, res) => {
    const latencyMs = config.latencyMs();
    if (latencyMs > 0) await delay(latencyMs, res);
    if (res.destroyed) return;
    res.set({ 'Cache-Control': 'no-store', ...config.headers?.() });
    if (config.takeFault(res)) return;
    const fail = (status: number, error: string): void => {
      stats.tokenErrors += 1;
      res.status(status).json({ error });
    };
    const client = config.authenticate(req);
    if (!client) return fail(401, 'invalid_client');
    const body = formBody(req);
    const grantType = body['grant_type'] ?? '';
    const grant = (consent: G, withRefresh: boolean): void => {
      stats.tokenGrants += 1;
      stats.tokenGrantsByType[grantType] = (stats.tokenGrantsByType[grantType] ?? 0) + 1;
      res.json(
        config.respond({
          accessToken: tokens.issueAccess(client.clientId, consent, grantType),
          refreshToken: withRefresh ? tokens.issueRefresh(client.clientId, consent) : undefined,
          consent,
        }),
      );
    };

    if (grantType === 'client_credentials' && config.clientCredentials) {
      // Custom connections carry no refresh token: the client simply asks again.
      return grant(config.clientCredentials(client, body), false);
    }
    if (grantType === 'authorization_code') {
      const code = body['code'];
      if (code === undefined || (config.redirectUriRequired && body['redirect_uri'] === undefined)) {
        return fail(400, 'invalid_request');
      }
      const entry = tokens.redeemCode(client.clientId, code, body['redirect_uri'], body['code_verifier']);
      return entry ? grant(entry.consent, true) : fail(400, 'invalid_grant');
    }
    if (grantType === 'refresh_token') {
      const presented = body['refresh_token'];
      if (presented === undefined) return fail(400, 'invalid_request');
      const entry = tokens.rotate(client.clientId, presented);
      if (!entry) return fail(400, 'invalid_grant');
      stats.tokenRefreshes += 1;
      return grant(entry.consent, true);
    }
    fail(400, 'unsupported_grant_type');
  };
}

export interface ConsentConfig<C extends OAuthClient, G extends object> {
  /** The name on the page, e.g. "Xero". */
  provider: string;
  /** Where the page posts the user's answer. */
  action: string;
  clients: ReadonlyMap<string, C>;
  tokens: OAuthTokens<G>;
  stats: OAuthStats;
  defaultScope: string;
  /** The page shown when there is no safe place to send an error back to. */
  badClientText: string;
  /** Intuit refuses an authorize request without `state`; Xero does not. */
  stateRequired: boolean;
  /** What the user picks: Xero's organisations (several), QuickBooks' company (one). */
  choice: {
    name: string;
    label: string;
    multiple: boolean;
    options: () => ConsentChoice[];
    known: (value: string) => boolean;
  };
  consentFor: (chosen: string[], scope: string) => G;
  /** Parameters besides `code` and `state` on the redirect back to the app. */
  redirectExtras: (consent: G, form: Record<string, string | undefined>) => Record<string, string | undefined>;
}

const PASSED_THROUGH = ['client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'];

/** The authorize endpoint's consent page (GET) and the user's answer to it (POST). */
export function consentEndpoints<C extends OAuthClient, G extends object>(
  config: ConsentConfig<C, G>,
): { authorize: RequestHandler; answer: RequestHandler } {
  const { clients, stats } = config;
  const clientFor = (params: Record<string, string | undefined>): C | undefined =>
    params['client_id'] === undefined ? undefined : clients.get(params['client_id']);
  const safeRedirect = (uri: string | undefined): uri is string => uri !== undefined && /^https?:\/\//.test(uri);

  const authorize: RequestHandler = (req, res) => {
    const q = queryStrings(req);
    const client = clientFor(q);
    const redirectUri = q['redirect_uri'];
    // Without a known client or a redirect URI there is nowhere safe to send an error.
    if (!client || !safeRedirect(redirectUri)) {
      res.status(400).type('text/html').send(`<h1>Error</h1><p>${config.badClientText}</p>`);
      return;
    }
    const pkce = readChallenge(q);
    if (q['response_type'] !== 'code' || pkce === 'invalid' || !q['scope'] || (config.stateRequired && !q['state'])) {
      res.redirect(302, redirectBack(redirectUri, { error: 'invalid_request', state: q['state'] }));
      return;
    }
    stats.consentsShown += 1;
    res
      .type('text/html')
      .set('Cache-Control', 'no-store')
      .send(
        consentPage({
          provider: config.provider,
          appName: client.name ?? client.clientId,
          scope: q['scope'],
          action: config.action,
          hidden: Object.fromEntries(PASSED_THROUGH.filter((k) => q[k] !== undefined).map((k) => [k, q[k]!])),
          choiceName: config.choice.name,
          choiceLabel: config.choice.label,
          choices: config.choice.options(),
          multiple: config.choice.multiple,
        }),
      );
  };

  const answer: RequestHandler = (req, res) => {
    const form = formBody(req);
    const client = clientFor(form);
    const redirectUri = form['redirect_uri'];
    if (!client || !safeRedirect(redirectUri)) {
      res.status(400).type('text/html').send('<h1>Error</h1><p>invalid consent form</p>');
      return;
    }
    const chosen = chosenValues(req, config.choice.name, config.choice.multiple).filter(config.choice.known);
    if (form['decision'] !== 'allow' || chosen.length === 0) {
      stats.consentsDenied += 1;
      res.redirect(302, redirectBack(redirectUri, { error: 'access_denied', state: form['state'] }));
      return;
    }
    const pkce = readChallenge(form);
    stats.consentsAllowed += 1;
    const consent = config.consentFor(chosen, form['scope'] ?? config.defaultScope);
    const code = config.tokens.issueCode(client.clientId, consent, redirectUri, pkce === 'invalid' ? undefined : pkce);
    res.redirect(
      302,
      redirectBack(redirectUri, { code, state: form['state'], ...config.redirectExtras(consent, form) }),
    );
  };

  return { authorize, answer };
}

// A checkbox list posts its field once per ticked box; a radio group posts it once.
function chosenValues(req: Request, name: string, multiple: boolean): string[] {
  const raw = (req.body as Record<string, unknown>)[name];
  if (!multiple) return typeof raw === 'string' ? [raw] : [];
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
}

type AnyGrant<G> = AccessGrant<G> | RefreshGrant<G>;

export interface RevocationConfig<C extends OAuthClient, G extends object> {
  tokens: OAuthTokens<G>;
  stats: OAuthStats;
  authenticate: (req: Request) => C | undefined;
  /** Xero takes a form field, Intuit a JSON body. */
  presentedToken: (req: Request) => string | undefined;
  /** RFC 7009 §2.2 answers 200 for unknown tokens (Xero); Intuit answers 400 with this error instead. */
  unknownTokenError: string | undefined;
  /** Which tokens fall with the presented one: all of its authorisation. */
  sameAuthorisation: (grant: AnyGrant<G>, presented: AnyGrant<G>) => boolean;
}

/** Revocation: ends the presented token's whole authorisation. */
export function revocationEndpoint<C extends OAuthClient, G extends object>(
  config: RevocationConfig<C, G>,
): RequestHandler {
  return (req, res) => {
    const client = config.authenticate(req);
    if (!client) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    const presented = config.presentedToken(req);
    if (presented === undefined) {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
    const grant = config.tokens.find(presented);
    if (grant && grant.clientId === client.clientId) {
      config.stats.revocations += 1;
      config.tokens.revokeWhere((other) => config.sameAuthorisation(other, grant));
    } else if (config.unknownTokenError !== undefined) {
      res.status(400).json({ error: config.unknownTokenError });
      return;
    }
    res.status(200).end();
  };
}
