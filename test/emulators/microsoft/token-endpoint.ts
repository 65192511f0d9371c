import type { AppRegistration, Directory, DirectoryUser } from './directory';
import { pkceMatches } from './grants';
import type { GrantStore } from './grants';
import { base64url } from './jwt';
import { aadError } from './replies';
import type { AadErrorContext, HttpReply } from './replies';
import { GRAPH_APP_ID, GRAPH_RESOURCE } from './tokens';
import type { TokenService } from './tokens';

/** What the token endpoint needs from the rest of the emulator. */
export interface TokenEndpointDeps {
  baseUrl(): string;
  directory: Directory;
  tokens: TokenService;
  grants: GrantStore;
  /** Reject a refresh token once it has been exchanged (stricter than Entra ID, which tolerates reuse). */
  rejectRefreshTokenReuse: boolean;
}

/** A token request as it arrived: form fields, the Authorization header and the caller's correlation id. */
export interface TokenRequest {
  tenantSegment: string;
  form: Record<string, string>;
  authorization: string | undefined;
  correlationId: string;
}

/** `common`, `organizations` and `consumers` are not tenants: the app registration decides. */
export const RESERVED_TENANTS = new Set(['common', 'organizations', 'consumers']);
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Parsed `scope` parameter: Graph permissions by short name, OpenID scopes, and whether `/.default` was asked. */
export interface ScopeRequest {
  graph: string[];
  oidc: string[];
  wantsDefault: boolean;
  foreignResource: string | undefined;
}

/** Splits a space-separated scope string, accepting Graph scopes with or without their resource prefix. */
export function parseScopes(raw: string, baseUrl: string): ScopeRequest {
  const prefixes = [GRAPH_RESOURCE, GRAPH_APP_ID, baseUrl].map((resource) => `${resource.toLowerCase()}/`);
  const request: ScopeRequest = { graph: [], oidc: [], wantsDefault: false, foreignResource: undefined };
  for (const scope of raw.split(/\s+/).filter(Boolean)) {
    if (OIDC_SCOPES.has(scope.toLowerCase())) {
      request.oidc.push(scope.toLowerCase());
      continue;
    }
    const prefix = prefixes.find((candidate) => scope.toLowerCase().startsWith(candidate));
    const name = prefix ? scope.slice(prefix.length) : scope;
    if (!prefix && scope.includes('/')) request.foreignResource = scope.slice(0, scope.lastIndexOf('/'));
    else if (name === '.default') request.wantsDefault = true;
    else request.graph.push(name);
  }
  return request;
}

/** Handles POST /{tenant}/oauth2/v2.0/token for the client credentials, authorization code and refresh grants. */
export function handleTokenRequest(deps: TokenEndpointDeps, request: TokenRequest): HttpReply {
  const ctx: AadErrorContext = { correlationId: request.correlationId, loginBaseUrl: deps.baseUrl() };
  const { form } = request;
  const tenantId = RESERVED_TENANTS.has(request.tenantSegment.toLowerCase()) ? null : request.tenantSegment;
  if (tenantId !== null && !deps.directory.hasTenant(tenantId)) {
    return aadError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
      ctx,
    );
  }
  if (!form['grant_type']) return missingParameter('grant_type', ctx);

  const credentials = clientCredentials(form, request.authorization);
  if (!credentials.clientId) return missingParameter('client_id', ctx);
  const app = deps.directory.findApp(credentials.clientId);
  if (!app || (tenantId !== null && app.tenantId !== tenantId)) {
    return aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${credentials.clientId}' was not found in the directory '${tenantId ?? 'common'}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      ctx,
    );
  }
  if (!credentials.clientSecret) {
    return aadError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      ctx,
    );
  }
  const secret = deps.directory.checkSecret(app, credentials.clientSecret);
  if (secret === 'invalid') {
    return aadError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      ctx,
    );
  }
  if (secret === 'expired') {
    return aadError(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      ctx,
    );
  }

  switch (form['grant_type']) {
    case 'client_credentials':
      return clientCredentialsGrant(deps, app, form, ctx);
    case 'authorization_code':
      return authorizationCodeGrant(deps, app, form, ctx);
    case 'refresh_token':
      return refreshTokenGrant(deps, app, form, ctx);
    default:
      return aadError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${form['grant_type']}'.`,
        ctx,
      );
  }
}

function clientCredentialsGrant(
  deps: TokenEndpointDeps,
  app: AppRegistration,
  form: Record<string, string>,
  ctx: AadErrorContext,
): HttpReply {
  const raw = form['scope'];
  if (!raw) return missingParameter('scope', ctx);
  const scopes = parseScopes(raw, deps.baseUrl());
  if (scopes.foreignResource !== undefined) return unknownResource(scopes.foreignResource, app, ctx);
  if (!scopes.wantsDefault || scopes.graph.length > 0) {
    return aadError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${raw} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      ctx,
    );
  }
  const access = deps.tokens.issueAppToken(app);
  return tokenReply({
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    ext_expires_in: access.expiresIn,
    access_token: access.token,
  });
}

function authorizationCodeGrant(
  deps: TokenEndpointDeps,
  app: AppRegistration,
  form: Record<string, string>,
  ctx: AadErrorContext,
): HttpReply {
  const code = form['code'];
  if (!code) return missingParameter('code', ctx);
  const grant = deps.grants.findCode(code);
  if (!grant || grant.clientId !== app.clientId) {
    return aadError(400, 'invalid_grant', 70000, "The provided value for the 'code' parameter is not valid.", ctx);
  }
  if (grant.redeemed) {
    return aadError(
      400,
      'invalid_grant',
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      ctx,
    );
  }
  if (grant.expiresAt <= Date.now()) {
    return aadError(
      400,
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
      ctx,
    );
  }
  if (form['redirect_uri'] !== grant.redirectUri) {
    return aadError(
      400,
      'invalid_grant',
      70000,
      "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.",
      ctx,
    );
  }
  if (grant.codeChallenge !== undefined) {
    const verifier = form['code_verifier'];
    if (!verifier || !pkceMatches(grant.codeChallenge, grant.codeChallengeMethod, verifier)) {
      return aadError(
        400,
        'invalid_grant',
        501481,
        'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        ctx,
      );
    }
  }
  grant.redeemed = true;
  const user = deps.directory.findUser(grant.userId, grant.tenantId);
  if (!user) return aadError(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.', ctx);
  const requested = parseScopes(form['scope'] ?? '', deps.baseUrl());
  const oidc = [...new Set([...requested.oidc, ...grant.scopes.filter((scope) => OIDC_SCOPES.has(scope))])];
  const graph = grant.scopes.filter((scope) => !OIDC_SCOPES.has(scope));
  return delegatedReply(deps, app, user, graph, oidc, grant.nonce, form['client_info'] === '1');
}

function refreshTokenGrant(
  deps: TokenEndpointDeps,
  app: AppRegistration,
  form: Record<string, string>,
  ctx: AadErrorContext,
): HttpReply {
  const token = form['refresh_token'];
  if (!token) return missingParameter('refresh_token', ctx);
  const grant = deps.grants.findRefreshToken(token);
  if (!grant || grant.clientId !== app.clientId) {
    return aadError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.', ctx);
  }
  if (grant.revoked || (grant.used && deps.rejectRefreshTokenReuse)) {
    return aadError(
      400,
      'invalid_grant',
      50173,
      'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
      ctx,
      { suberror: 'bad_token' },
    );
  }
  const user = deps.directory.findUser(grant.userId, grant.tenantId);
  if (!user) return aadError(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.', ctx);
  const requested = parseScopes(form['scope'] ?? '', deps.baseUrl());
  const notConsented = requested.graph.filter((scope) => !grant.scopes.includes(scope));
  if (notConsented.length > 0) {
    return aadError(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${app.clientId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource.`,
      ctx,
      { suberror: 'consent_required' },
    );
  }
  grant.used = true;
  const graph = requested.graph.length > 0 ? requested.graph : grant.scopes.filter((s) => !OIDC_SCOPES.has(s));
  const oidc = requested.oidc.length > 0 ? requested.oidc : grant.scopes.filter((s) => OIDC_SCOPES.has(s));
  return delegatedReply(deps, app, user, graph, oidc, undefined, form['client_info'] === '1', grant.scopes);
}

function delegatedReply(
  deps: TokenEndpointDeps,
  app: AppRegistration,
  user: DirectoryUser,
  graphScopes: string[],
  oidcScopes: string[],
  nonce: string | undefined,
  wantsClientInfo: boolean,
  consented: string[] = [...graphScopes, ...oidcScopes],
): HttpReply {
  const access = deps.tokens.issueUserToken(app, user, graphScopes);
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    // Entra ID echoes Graph scopes by short name and leaves offline_access out of `scope`.
    scope: [...graphScopes, ...oidcScopes.filter((scope) => scope !== 'offline_access')].join(' '),
    expires_in: access.expiresIn,
    ext_expires_in: access.expiresIn,
    access_token: access.token,
  };
  if (oidcScopes.includes('offline_access')) {
    body['refresh_token'] = deps.grants.issueRefreshToken({
      clientId: app.clientId,
      tenantId: user.tenantId,
      userId: user.id,
      scopes: consented,
    });
  }
  if (oidcScopes.includes('openid')) body['id_token'] = deps.tokens.issueIdToken(app, user, nonce);
  if (wantsClientInfo) body['client_info'] = clientInfo(user);
  return tokenReply(body);
}

/** The `client_info` MSAL builds its home account id from. */
export function clientInfo(user: DirectoryUser): string {
  return base64url(JSON.stringify({ uid: user.id, utid: user.tenantId }));
}

function tokenReply(body: Record<string, unknown>): HttpReply {
  return { status: 200, body, headers: { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' } };
}

function clientCredentials(form: Record<string, string>, authorization: string | undefined) {
  // client_secret_basic is as valid as client_secret_post.
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator > 0) {
      return {
        clientId: decodeURIComponent(decoded.slice(0, separator)),
        clientSecret: decodeURIComponent(decoded.slice(separator + 1)),
      };
    }
  }
  return { clientId: form['client_id'], clientSecret: form['client_secret'] };
}

function missingParameter(name: string, ctx: AadErrorContext): HttpReply {
  return aadError(
    400,
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
    ctx,
  );
}

function unknownResource(resource: string, app: AppRegistration, ctx: AadErrorContext): HttpReply {
  return aadError(
    400,
    'invalid_resource',
    500011,
    `The resource principal named ${resource} was not found in the tenant named ${app.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    ctx,
  );
}
