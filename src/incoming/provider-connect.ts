import { createHash, randomBytes } from 'node:crypto';
import { updateIntegration, type IntegrationRow } from './db/integrations';
import { deleteConnectRequests, insertConnectRequest, takeConnectRequest } from './db/provider-connect-requests';
import {
  deleteProviderTokens,
  findProviderTokens,
  setConnectedTenant,
  storeConnectedTokens,
} from './db/provider-tokens';
import { safeRequest } from '../platform/http/safe-request';
import { BROWSER_MISMATCH_MESSAGES, browserHash } from '../platform/security/browser-binding';
import { basicAuth, encryptTokens, getAccessToken, storedTokens, tokenRequest, type TokenDeps } from './oauth-tokens';
import { oauthClient } from './provider-http';
import type { ProviderName, ProviderSecrets } from './provider-types';
import { providerSecrets, providerSecretsAad, resolveProvider } from './providers';
import { QUICKBOOKS_DEFAULTS, type QuickBooksSettings } from './quickbooks/settings';
import { XERO_DEFAULTS, type XeroSettings } from './xero/settings';

/**
 * "Connect to Xero / QuickBooks": OAuth2 authorization code with PKCE and a single-use `state`.
 * The admin API hands out the provider's consent URL; the provider sends the browser back to
 * `/oauth/<provider>/callback`, where the code is redeemed and the tokens stored encrypted in
 * provider_tokens (the store the refresh path reads). Xero connections may reach several
 * organisations, listed from `/connections` for the admin to choose; QuickBooks names its realm
 * on the callback. Disconnecting revokes the refresh token at the provider and forgets it.
 */

export interface ConnectDeps extends TokenDeps {
  publicBaseUrl: string;
}

/** How long the admin has to finish the consent. */
const CONNECT_TTL_MS = 10 * 60_000;

export const verifierAad = (integrationId: string) => `provider-connect:${integrationId}`;
const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

export const connectRedirectUri = (publicBaseUrl: string, provider: ProviderName) =>
  `${publicBaseUrl}/oauth/${provider}/callback`;

/** A failure the callback page or the API shows the admin (never a stack trace). */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function connectSettings(integration: IntegrationRow) {
  const { settings } = resolveProvider(integration);
  if (settings.grantType === 'client_credentials') {
    throw new ConnectError(
      409,
      'not_connectable',
      'This integration uses client credentials (a custom connection); it has nothing to connect',
    );
  }
  if (integration.provider === 'xero') {
    const s = settings as XeroSettings;
    return { settings: s, authorizeUrl: s.authorizeUrl, scope: s.scope ?? XERO_DEFAULTS.connectScope };
  }
  const s = settings as QuickBooksSettings;
  return { settings: s, authorizeUrl: s.authorizeUrl, scope: QUICKBOOKS_DEFAULTS.connectScope };
}

/** Only a console path may be returned to after the consent: no open redirect. */
export function safeReturnTo(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/console\/[^\\\s]*$/.test(value) && !value.startsWith('//')
    ? value
    : undefined;
}

/**
 * Starts a sign-in: stores the state, the PKCE verifier and the hash of the starting browser's
 * consent nonce (its cookie); returns the provider's consent URL.
 */
export async function startConnect(
  deps: ConnectDeps,
  integration: IntegrationRow,
  browserNonce: string,
  returnTo?: string,
) {
  const { settings, authorizeUrl, scope } = connectSettings(integration);
  const provider = integration.provider as ProviderName;
  const state = randomBytes(32).toString('base64url');
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = connectRedirectUri(deps.publicBaseUrl, provider);
  const expiresAt = new Date(Date.now() + CONNECT_TTL_MS);
  await insertConnectRequest(deps.db, {
    stateHash: hashState(state),
    integrationId: integration.id,
    provider,
    verifierEnc: deps.secrets.encrypt(verifier, verifierAad(integration.id)),
    redirectUri,
    returnTo: safeReturnTo(returnTo) ?? null,
    expiresAt,
    browserHash: browserHash(browserNonce),
  });
  const url = new URL(authorizeUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return { authorizeUrl: url.toString(), redirectUri, expiresAt };
}

export interface XeroTenant {
  tenantId: string;
  tenantName: string;
  tenantType: string;
}

export interface CallbackResult {
  integration: IntegrationRow;
  returnTo: string | null;
  /** The tenant (Xero, when only one) or realm (QuickBooks) the connection was bound to. */
  tenantId: string | null;
  tenants: XeroTenant[];
}

const param = (q: Record<string, unknown>, k: string) => (typeof q[k] === 'string' ? q[k] : undefined);

/**
 * Completes a sign-in from the provider's redirect. The state must be known, unused, unexpired,
 * issued for this provider and come back to the browser that started it (its consent cookie);
 * it is then consumed whatever happens next. From another browser nothing changes.
 */
export async function completeConnect(
  deps: ConnectDeps,
  provider: ProviderName,
  query: Record<string, unknown>,
  loadIntegration: (id: string) => Promise<IntegrationRow | undefined>,
  browserNonce: string | undefined,
): Promise<CallbackResult> {
  const state = param(query, 'state');
  if (!state)
    throw new ConnectError(
      400,
      'missing_state',
      'The answer has no state parameter. Start again from the integration.',
    );
  if (!browserNonce) {
    throw new ConnectError(403, 'consent_cookie_missing', BROWSER_MISMATCH_MESSAGES.cookie_missing);
  }
  const pending = await takeConnectRequest(deps.db, hashState(state), browserHash(browserNonce));
  if (pending === 'other_browser') {
    throw new ConnectError(403, 'browser_mismatch', BROWSER_MISMATCH_MESSAGES.other_browser);
  }
  if (!pending || pending.expired || pending.provider !== provider) {
    throw new ConnectError(
      400,
      'unknown_state',
      'This sign-in is unknown, already used or expired. Start again from the integration.',
    );
  }
  const integration = await loadIntegration(pending.integration_id);
  if (!integration) throw new ConnectError(404, 'integration_not_found', 'The integration no longer exists.');
  const error = param(query, 'error');
  if (error) {
    const description = param(query, 'error_description') ?? '';
    throw new ConnectError(
      400,
      'consent_refused',
      `The provider did not grant access (${error}) ${description}`.trim(),
    );
  }
  const code = param(query, 'code');
  if (!code) throw new ConnectError(400, 'missing_code', 'The answer has no authorization code.');
  const realmId = param(query, 'realmId');
  if (provider === 'quickbooks' && !(realmId && /^\d{1,30}$/.test(realmId))) {
    throw new ConnectError(400, 'missing_realm', 'QuickBooks did not name the company (realmId) the access is for.');
  }

  const { settings } = connectSettings(integration);
  const secrets = providerSecrets(deps.secrets, integration);
  const answer = await tokenRequest(
    deps,
    { tokenUrl: settings.tokenUrl, clientId: settings.clientId, clientSecret: secrets.clientSecret },
    new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: pending.redirect_uri,
      code_verifier: deps.secrets.decrypt(pending.verifier_enc, verifierAad(integration.id)),
    }),
  ).catch((err: Error) => {
    throw new ConnectError(
      502,
      'token_endpoint_unreachable',
      `The token endpoint could not be reached: ${err.message}`,
    );
  });
  if (!answer.ok) throw new ConnectError(400, 'code_refused', answer.error.message);
  if (!answer.body.refresh_token) {
    throw new ConnectError(
      400,
      'no_refresh_token',
      'The provider granted no refresh token (is offline_access among the scopes?)',
    );
  }

  let tenants: XeroTenant[] = [];
  let tenantId: string | null = realmId ?? null;
  if (provider === 'xero') {
    tenants = await listConnections(deps, (settings as XeroSettings).connectionsUrl, answer.body.access_token);
    // One organisation: nothing to choose. Several: the admin picks one in the console.
    tenantId = tenants.length === 1 ? tenants[0]!.tenantId : null;
  }
  const { tokensEnc, expiresIn } = encryptTokens(deps.secrets, integration.id, answer.body);
  await storeConnectedTokens(deps.db, integration.id, tokensEnc, expiresIn, tenantId);
  // A refresh token pasted earlier is superseded by the connection: forget it.
  const updated = await rebind(deps, integration, tenantId, { dropPastedToken: true });
  return { integration: updated, returnTo: pending.return_to, tenantId, tenants };
}

/** Points the integration's tenant/realm filter at the connected one and drops a pasted refresh token. */
async function rebind(
  deps: ConnectDeps,
  integration: IntegrationRow,
  tenantId: string | null,
  opts: { dropPastedToken: boolean },
): Promise<IntegrationRow> {
  const key = integration.provider === 'xero' ? 'tenantIds' : 'realmIds';
  const settings = tenantId ? { ...integration.settings, [key]: [tenantId] } : undefined;
  let secretsEnc: string | undefined;
  if (opts.dropPastedToken) {
    const current = providerSecrets(deps.secrets, integration);
    if (current.refreshToken !== undefined) {
      const { refreshToken: _dropped, ...rest } = current;
      secretsEnc = deps.secrets.encryptJson(
        rest satisfies Omit<ProviderSecrets, 'refreshToken'>,
        providerSecretsAad(integration.id),
      );
    }
  }
  const row = await updateIntegration(deps.db, integration.id, {
    ...(settings ? { settings } : {}),
    ...(secretsEnc ? { secrets_enc: secretsEnc } : {}),
  });
  return row ?? integration;
}

async function listConnections(deps: ConnectDeps, connectionsUrl: string, accessToken: string): Promise<XeroTenant[]> {
  const res = await safeRequest({
    method: 'GET',
    url: connectionsUrl,
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    timeoutMs: deps.timeoutMs,
    policy: deps.policy,
  }).catch((err: Error) => {
    throw new ConnectError(
      502,
      'connections_unreachable',
      `Xero's connections endpoint could not be reached: ${err.message}`,
    );
  });
  if (res.status !== 200) {
    throw new ConnectError(
      502,
      'connections_failed',
      `Xero answered ${res.status} when listing the connected organisations`,
    );
  }
  let list: unknown;
  try {
    list = JSON.parse(res.body);
  } catch {
    throw new ConnectError(502, 'connections_failed', "Xero's list of connections is not JSON");
  }
  if (!Array.isArray(list))
    throw new ConnectError(502, 'connections_failed', "Xero's list of connections is not a list");
  return list
    .filter(
      (c): c is Record<string, unknown> => typeof c === 'object' && c !== null && typeof c['tenantId'] === 'string',
    )
    .filter((c) => (c['tenantType'] ?? 'ORGANISATION') === 'ORGANISATION')
    .map((c) => ({
      tenantId: String(c['tenantId']).toLowerCase(),
      tenantName: typeof c['tenantName'] === 'string' ? c['tenantName'] : '',
      tenantType: String(c['tenantType'] ?? 'ORGANISATION'),
    }));
}

/** The organisations a Xero connection reaches (with a fresh access token, refreshed if due). */
export async function xeroTenants(deps: ConnectDeps, integration: IntegrationRow): Promise<XeroTenant[]> {
  if (integration.provider !== 'xero') throw new ConnectError(409, 'not_xero', 'Only Xero connections list tenants');
  const { settings } = resolveProvider(integration);
  const client = oauthClient(integration, settings, providerSecrets(deps.secrets, integration));
  let token;
  try {
    token = await getAccessToken(deps, client);
  } catch (err) {
    throw new ConnectError(409, 'not_connected', `No access token: ${(err as Error).message}`);
  }
  return listConnections(deps, (settings as XeroSettings).connectionsUrl, token.accessToken);
}

/** Binds a Xero integration to one of the organisations its connection reaches. */
export async function chooseXeroTenant(deps: ConnectDeps, integration: IntegrationRow, tenantId: string) {
  const tenants = await xeroTenants(deps, integration);
  const chosen = tenants.find((t) => t.tenantId === tenantId.toLowerCase());
  if (!chosen) throw new ConnectError(400, 'unknown_tenant', `The connection does not reach tenant ${tenantId}`);
  await setConnectedTenant(deps.db, integration.id, chosen.tenantId);
  return { tenant: chosen, integration: await rebind(deps, integration, chosen.tenantId, { dropPastedToken: false }) };
}

export interface ConnectionStatus {
  connected: boolean;
  /** `connect`: signed in through the Connect flow; `refresh_token`: a pasted token; `client_credentials`: a custom connection. */
  method: 'connect' | 'refresh_token' | 'client_credentials' | null;
  connectedAt: Date | null;
  tenantId: string | null;
  /** Xero only: connected, but the admin has not chosen among several organisations yet. */
  tenantChoiceNeeded: boolean;
  lastError: string | null;
}

export async function connectionStatus(deps: ConnectDeps, integration: IntegrationRow): Promise<ConnectionStatus> {
  const { settings } = resolveProvider(integration);
  const row = await findProviderTokens(deps.db, integration.id);
  const stored = storedTokens(deps.secrets, row);
  const pasted = providerSecrets(deps.secrets, integration).refreshToken;
  const viaConnect = !!row?.connected_at && !!stored?.refreshToken;
  const method =
    settings.grantType === 'client_credentials'
      ? 'client_credentials'
      : viaConnect
        ? 'connect'
        : stored?.refreshToken || pasted
          ? 'refresh_token'
          : null;
  return {
    connected: method !== null,
    method,
    connectedAt: viaConnect ? row!.connected_at : null,
    tenantId: row?.connected_tenant_id ?? null,
    tenantChoiceNeeded: viaConnect && integration.provider === 'xero' && !row?.connected_tenant_id,
    lastError: row?.last_error ?? null,
  };
}

/**
 * Revokes the refresh token at the provider (which ends Xero's connections too) and forgets
 * every token: the stored set, a pasted refresh token and pending sign-ins. The local tokens are
 * dropped even when the provider cannot be reached; the answer says whether revocation worked.
 */
export async function disconnect(
  deps: ConnectDeps,
  integration: IntegrationRow,
): Promise<{ revoked: boolean; message: string }> {
  const { settings } = resolveProvider(integration);
  const secrets = providerSecrets(deps.secrets, integration);
  const token =
    storedTokens(deps.secrets, await findProviderTokens(deps.db, integration.id))?.refreshToken ?? secrets.refreshToken;
  let outcome = { revoked: false, message: 'There was no refresh token to revoke.' };
  if (token) outcome = await revoke(deps, integration.provider as ProviderName, settings, secrets, token);
  await deleteProviderTokens(deps.db, integration.id);
  await deleteConnectRequests(deps.db, integration.id);
  await rebind(deps, integration, null, { dropPastedToken: true });
  return outcome;
}

async function revoke(
  deps: ConnectDeps,
  provider: ProviderName,
  settings: { clientId: string },
  secrets: ProviderSecrets,
  token: string,
): Promise<{ revoked: boolean; message: string }> {
  const client = { clientId: settings.clientId, clientSecret: secrets.clientSecret };
  // Xero takes a form (RFC 7009); Intuit's revoke endpoint takes JSON.
  const xero = provider === 'xero';
  const url = xero ? (settings as XeroSettings).revocationUrl : (settings as QuickBooksSettings).revocationUrl;
  try {
    const res = await safeRequest({
      method: 'POST',
      url,
      headers: {
        authorization: basicAuth(client),
        accept: 'application/json',
        'content-type': xero ? 'application/x-www-form-urlencoded' : 'application/json',
      },
      body: xero
        ? new URLSearchParams({ token, token_type_hint: 'refresh_token' }).toString()
        : JSON.stringify({ token }),
      timeoutMs: deps.timeoutMs,
      policy: deps.policy,
    });
    return res.status === 200
      ? { revoked: true, message: 'The refresh token was revoked at the provider.' }
      : {
          revoked: false,
          message: `The provider answered ${res.status} to the revocation; the tokens were forgotten here anyway.`,
        };
  } catch (err) {
    return {
      revoked: false,
      message: `The revocation endpoint could not be reached (${(err as Error).message}); the tokens were forgotten here anyway.`,
    };
  }
}
