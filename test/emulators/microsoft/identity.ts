import { randomUUID } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { Directory, DirectoryUser } from './directory';
import { aadError, writeReply } from './replies';
import type { Counters } from './stats';
import type { FaultInjector } from './throttle';
import { clientInfo, handleTokenRequest, parseScopes, RESERVED_TENANTS } from './token-endpoint';
import type { TokenEndpointDeps } from './token-endpoint';

/** What the simulated user does on the consent screen. */
export type ConsentOutcome = 'approve' | 'access_denied';

/** Who signs in at /authorize and whether they consent. */
export interface AuthorizeBehaviour {
  outcome: ConsentOutcome;
  /** User id, mail or UPN; defaults to `login_hint`, then the tenant's first user. */
  user?: string;
}

export interface IdentityDeps extends TokenEndpointDeps {
  faults: FaultInjector;
  counters: Counters;
  authorizeBehaviour(): AuthorizeBehaviour;
}

/** The OpenID Connect discovery document for a tenant, as login.microsoftonline.com serves it. */
export function openIdConfiguration(baseUrl: string, tenant: string): Record<string, unknown> {
  const issuerTenant = RESERVED_TENANTS.has(tenant.toLowerCase()) ? '{tenantid}' : tenant;
  const host = new URL(baseUrl).host;
  return {
    token_endpoint: `${baseUrl}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${baseUrl}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${baseUrl}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${baseUrl}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${baseUrl}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${baseUrl}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'email'],
    tenant_region_scope: 'EU',
    cloud_instance_name: host,
    cloud_graph_host_name: host,
    msgraph_host: host,
  };
}

/** The `authorityMetadata` string MSAL takes so it never performs discovery against the emulator. */
export function authorityMetadataFor(emulatorUrl: string, tenantId: string): string {
  return JSON.stringify(openIdConfiguration(emulatorUrl.replace(/\/+$/, ''), tenantId));
}

/** Routes of the Microsoft identity platform: discovery, /authorize, /token and /logout. */
export function createIdentityRouter(deps: IdentityDeps): Router {
  const router = express.Router();

  router.get('/common/discovery/instance', (_req, res) => {
    deps.counters.call('GET /common/discovery/instance');
    const host = new URL(deps.baseUrl()).host;
    res.json({
      tenant_discovery_endpoint: `${deps.baseUrl()}/common/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });

  router.get('/:tenant/v2.0/.well-known/openid-configuration', (req, res) => {
    deps.counters.call('GET /{tenant}/v2.0/.well-known/openid-configuration');
    const tenant = param(req, 'tenant');
    if (!RESERVED_TENANTS.has(tenant.toLowerCase()) && !deps.directory.hasTenant(tenant)) {
      res.status(400).json({
        error: 'invalid_tenant',
        error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
        error_codes: [90002],
      });
      return;
    }
    res.json(openIdConfiguration(deps.baseUrl(), tenant));
  });

  router.get('/:tenant/discovery/v2.0/keys', (_req, res) => {
    deps.counters.call('GET /{tenant}/discovery/v2.0/keys');
    res.json({ keys: [deps.tokens.signingKey.jwk] });
  });

  router.get('/:tenant/oauth2/v2.0/authorize', (req, res) => {
    deps.counters.call('GET /{tenant}/oauth2/v2.0/authorize');
    authorize(deps, req, res);
  });

  router.get('/:tenant/oauth2/v2.0/logout', (req, res) => {
    const target = queryOf(req).get('post_logout_redirect_uri');
    if (target) res.redirect(302, target);
    else res.type('text/html').send('<p>You signed out of your account.</p>');
  });

  router.post('/:tenant/oauth2/v2.0/token', express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => {
    deps.counters.call('POST /{tenant}/oauth2/v2.0/token');
    const correlationId = req.get('client-request-id') ?? randomUUID();
    const reply =
      deps.faults.takeToken(req.path, { correlationId, loginBaseUrl: deps.baseUrl() }) ??
      handleTokenRequest(deps, {
        tenantSegment: param(req, 'tenant'),
        form: stringFields(req.body),
        authorization: req.get('authorization'),
        correlationId,
      });
    if (reply.status === 200) deps.counters.tokensIssued += 1;
    else deps.counters.tokenErrors += 1;
    deps.counters.status(reply.status);
    res.setHeader('client-request-id', correlationId);
    writeReply(res, reply);
  });

  // A body express cannot parse still deserves Entra ID's error shape rather than an HTML page.
  router.use((_error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const correlationId = req.get('client-request-id') ?? randomUUID();
    deps.counters.tokenErrors += 1;
    writeReply(
      res,
      aadError(400, 'invalid_request', 9002313, 'Invalid request. Request is malformed or invalid.', {
        correlationId,
        loginBaseUrl: deps.baseUrl(),
      }),
    );
  });

  return router;
}

function authorize(deps: IdentityDeps, req: Request, res: Response): void {
  const query = queryOf(req);
  const tenant = param(req, 'tenant');
  const clientId = query.get('client_id') ?? '';
  const redirectUri = query.get('redirect_uri') ?? '';
  const state = query.get('state');
  if (!RESERVED_TENANTS.has(tenant.toLowerCase()) && !deps.directory.hasTenant(tenant)) {
    errorPage(res, `AADSTS90002: Tenant '${tenant}' not found.`);
    return;
  }
  const app = deps.directory.findApp(clientId);
  if (!app || (!RESERVED_TENANTS.has(tenant.toLowerCase()) && app.tenantId !== tenant)) {
    errorPage(res, `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`);
    return;
  }
  if (!redirectUri || (app.redirectUris !== null && !app.redirectUris.includes(redirectUri))) {
    errorPage(
      res,
      `AADSTS50011: The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    );
    return;
  }
  const respond = (params: Record<string, string>) =>
    redirectWith(res, redirectUri, query.get('response_mode') ?? 'query', { ...params, ...(state ? { state } : {}) });

  if (query.get('response_type') !== 'code') {
    respond({ error: 'unsupported_response_type', error_description: 'AADSTS70005: response_type is not supported.' });
    return;
  }
  const behaviour = deps.authorizeBehaviour();
  if (behaviour.outcome === 'access_denied') {
    respond({
      error: 'access_denied',
      error_subcode: 'cancel',
      error_description: 'AADSTS65004: User declined to consent to access the app.',
    });
    return;
  }
  const user = pickUser(deps.directory, app.tenantId, behaviour.user ?? query.get('login_hint') ?? undefined);
  if (!user) {
    errorPage(res, `AADSTS50034: No user to sign in: add a user to tenant '${app.tenantId}' first.`);
    return;
  }
  const scopes = parseScopes(query.get('scope') ?? '', deps.baseUrl());
  const graph = scopes.wantsDefault ? [...app.permissions] : scopes.graph;
  const code = deps.grants.issueCode({
    clientId: app.clientId,
    tenantId: app.tenantId,
    userId: user.id,
    redirectUri,
    scopes: [...(graph.length > 0 ? graph : ['User.Read']), ...scopes.oidc],
    nonce: query.get('nonce') || undefined,
    codeChallenge: query.get('code_challenge') ?? undefined,
    codeChallengeMethod: query.get('code_challenge_method') ?? undefined,
  });
  respond({ code, client_info: clientInfo(user), session_state: randomUUID() });
}

function pickUser(directory: Directory, tenantId: string, hint: string | undefined): DirectoryUser | undefined {
  if (hint) return directory.findUser(hint, tenantId);
  return directory.usersOf(tenantId)[0];
}

function redirectWith(res: Response, redirectUri: string, mode: string, params: Record<string, string>): void {
  if (mode === 'form_post') {
    const inputs = Object.entries(params)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('');
    res
      .type('text/html')
      .send(
        `<html><body onload="document.forms[0].submit()"><form method="POST" action="${escapeHtml(redirectUri)}">${inputs}</form></body></html>`,
      );
    return;
  }
  const target = new URL(redirectUri);
  if (mode === 'fragment') target.hash = new URLSearchParams(params).toString();
  else for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  res.redirect(302, target.toString());
}

// Entra ID shows a page rather than redirecting when it cannot trust the redirect URI.
function errorPage(res: Response, message: string): void {
  res
    .status(400)
    .type('text/html')
    .send(`<html><body><h1>Sign in</h1><p>${escapeHtml(message)}</p></body></html>`);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function queryOf(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'https://emulator.invalid').searchParams;
}

function param(req: Request, name: string): string {
  const value: unknown = req.params[name];
  return typeof value === 'string' ? value : '';
}

function stringFields(body: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (typeof body !== 'object' || body === null) return fields;
  for (const [key, value] of Object.entries(body)) if (typeof value === 'string') fields[key] = value;
  return fields;
}
