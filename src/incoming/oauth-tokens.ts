import { randomUUID } from 'node:crypto';
import type { Db } from '../platform/db/pool';
import {
  expireAccessToken,
  findProviderTokens,
  getProviderTokens,
  releaseRefreshLease,
  storeRefreshedTokens,
  takeRefreshLease,
  type ProviderTokenRow,
} from './db/provider-tokens';
import { safeRequest, type DestinationPolicy } from '../platform/http/safe-request';
import type { SecretBox } from '../platform/security/secret-box';

/**
 * OAuth2 access tokens for provider APIs. Access tokens are cached (encrypted) in PostgreSQL
 * and refreshed a little before they expire. Refresh tokens rotate on every use (Xero keeps
 * the old one for 30 minutes, QuickBooks may refuse it at once), so exactly one caller may
 * refresh at a time: a lease row in PostgreSQL across processes, a shared promise within one.
 */

export interface TokenDeps {
  db: Db;
  secrets: SecretBox;
  policy: DestinationPolicy;
  timeoutMs: number;
  /** Refresh this long before the access token expires. */
  tokenSkewSeconds: number;
  /** How long one process may hold the refresh before another takes it over. */
  tokenLeaseSeconds: number;
}

export interface OAuthClient {
  integrationId: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  grantType: 'refresh_token' | 'client_credentials';
  scope?: string | undefined;
  /** The refresh token the integration was configured with; used until the first rotation. */
  initialRefreshToken?: string | undefined;
}

export interface AccessToken {
  accessToken: string;
  /** The stored row version the token came from: `invalidateAccessToken` needs it. */
  version: string;
}

export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
}

/** A token could not be obtained. `permanent` when only re-authorising the integration helps. */
export class TokenRefreshError extends Error {
  override name = 'TokenRefreshError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

const POLL_MS = 100;
const inFlight = new Map<string, Promise<AccessToken>>();
export const tokensAad = (integrationId: string) => `provider-tokens:${integrationId}`;

/** A valid access token for the integration, refreshing it (once, across all workers) when due. */
export function getAccessToken(deps: TokenDeps, client: OAuthClient): Promise<AccessToken> {
  const running = inFlight.get(client.integrationId);
  if (running) return running;
  const p = obtain(deps, client).finally(() => inFlight.delete(client.integrationId));
  inFlight.set(client.integrationId, p);
  return p;
}

/** After a 401: the token is expired early so the next `getAccessToken` refreshes. */
export async function invalidateAccessToken(deps: TokenDeps, integrationId: string, token: AccessToken): Promise<void> {
  await expireAccessToken(deps.db, integrationId, token.version);
}

function fromRow(deps: TokenDeps, row: ProviderTokenRow): AccessToken {
  const stored = deps.secrets.decryptJson<StoredTokens>(row.tokens_enc!, tokensAad(row.integration_id));
  return { accessToken: stored.accessToken, version: row.tokens_enc! };
}

async function obtain(deps: TokenDeps, client: OAuthClient): Promise<AccessToken> {
  const owner = randomUUID();
  // A lease holder never takes longer than its HTTP timeout, so this bound is generous.
  const deadline = Date.now() + (deps.tokenLeaseSeconds + 5) * 1000;
  for (let refreshes = 0; ;) {
    const row = await getProviderTokens(deps.db, client.integrationId, deps.tokenSkewSeconds);
    if (row.fresh) return fromRow(deps, row);
    const leased = await takeRefreshLease(
      deps.db,
      client.integrationId,
      owner,
      deps.tokenLeaseSeconds,
      deps.tokenSkewSeconds,
    );
    if (leased) {
      if (leased.fresh) {
        // Someone refreshed between our read and the lease.
        await releaseRefreshLease(deps.db, client.integrationId, owner, null);
        return fromRow(deps, leased);
      }
      // Undefined: a newer token set was stored while we refreshed; read it on the next turn.
      const got = await refresh(deps, client, owner, leased);
      if (got) return got;
      if (++refreshes >= 3) throw new TokenRefreshError('the stored tokens kept changing while refreshing', false);
      continue;
    }
    if (Date.now() > deadline) {
      throw new TokenRefreshError('another worker is refreshing the access token and has not finished', false);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Waits (up to `waitMs`) for a token set newer than `generation` to be stored. */
async function newerStored(
  deps: TokenDeps,
  integrationId: string,
  generation: string,
  waitMs: number,
): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    const row = await findProviderTokens(deps.db, integrationId);
    if (!row || row.generation !== generation) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * One refresh under the lease. The rotated refresh token is stored by compare-and-set on the
 * generation it was refreshed from, before the access token is handed to anyone: an expired
 * lease cannot make it be dropped, and it never overwrites a newer set. Until that store the
 * previous set stays in place, so a crash in between leaves the old refresh token to retry with
 * (Xero accepts it for 30 minutes after rotation).
 */
async function refresh(
  deps: TokenDeps,
  client: OAuthClient,
  owner: string,
  row: ProviderTokenRow & { abandoned: boolean },
): Promise<AccessToken | undefined> {
  const previous = row.tokens_enc
    ? deps.secrets.decryptJson<StoredTokens>(row.tokens_enc, tokensAad(client.integrationId))
    : undefined;
  const form = new URLSearchParams({ grant_type: client.grantType });
  let refreshToken: string | undefined;
  if (client.grantType === 'refresh_token') {
    refreshToken = previous?.refreshToken ?? client.initialRefreshToken;
    if (!refreshToken) {
      await releaseRefreshLease(deps.db, client.integrationId, owner, 'not connected: no refresh token');
      throw new TokenRefreshError(
        'no refresh token is configured for this integration: connect it (or set refreshToken through the API)',
        true,
      );
    }
    form.set('refresh_token', refreshToken);
  } else if (client.scope) {
    form.set('scope', client.scope);
  }

  let answer: TokenAnswer;
  try {
    answer = await tokenRequest(deps, client, form);
  } catch (err) {
    answer = {
      ok: false,
      error: new TokenRefreshError(`the token endpoint could not be reached: ${(err as Error).message}`, false),
    };
  }
  if (answer.ok) {
    const body = answer.body;
    // Keep the old refresh token when the provider does not rotate it in this answer.
    const rotated = body.refresh_token ?? refreshToken;
    const next: StoredTokens = { accessToken: body.access_token, ...(rotated ? { refreshToken: rotated } : {}) };
    const tokensEnc = deps.secrets.encryptJson(next, tokensAad(client.integrationId));
    const stored = await storeRefreshedTokens(
      deps.db,
      client.integrationId,
      row.generation,
      owner,
      tokensEnc,
      expiresInOf(body),
    );
    if (stored) return { accessToken: next.accessToken, version: tokensEnc };
    // Someone stored a newer set (a racing refresher under Xero's grace, or a new Connect): use theirs.
    await releaseRefreshLease(deps.db, client.integrationId, owner, null);
    return undefined;
  }
  const failure = answer.error;
  // A refused refresh token may only mean a racing refresher rotated it first: when the lease we
  // took had been abandoned, its holder may still store the rotated token, so wait for that.
  if (
    failure.permanent &&
    (await newerStored(deps, client.integrationId, row.generation, row.abandoned ? deps.timeoutMs : 0))
  ) {
    await releaseRefreshLease(deps.db, client.integrationId, owner, null);
    return undefined;
  }
  await releaseRefreshLease(deps.db, client.integrationId, owner, failure.message);
  throw failure;
}

export interface TokenBody {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

type TokenAnswer = { ok: true; body: TokenBody } | { ok: false; error: TokenRefreshError };

const expiresInOf = (body: TokenBody) =>
  typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 1800;

/** POSTs a grant to the token endpoint (client authenticated with HTTP Basic) through the URL guard. */
export async function tokenRequest(
  deps: Pick<TokenDeps, 'policy' | 'timeoutMs'>,
  client: Pick<OAuthClient, 'tokenUrl' | 'clientId' | 'clientSecret'>,
  form: URLSearchParams,
): Promise<TokenAnswer> {
  const res = await safeRequest({
    method: 'POST',
    url: client.tokenUrl,
    headers: {
      authorization: basicAuth(client),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: form.toString(),
    timeoutMs: deps.timeoutMs,
    policy: deps.policy,
  });
  const body = parseTokenBody(res.body);
  if (res.status === 200 && typeof body?.access_token === 'string') return { ok: true, body: body as TokenBody };
  const code = body?.error ?? `HTTP ${res.status}`;
  // invalid_grant / invalid_client: the credentials are dead; retrying cannot help.
  const permanent = code === 'invalid_grant' || code === 'invalid_client' || code === 'unauthorized_client';
  const grant = form.get('grant_type') ?? 'token';
  return {
    ok: false,
    error: new TokenRefreshError(
      `the token endpoint refused the ${grant} grant (${code})${permanent ? ': re-authorise the integration' : ''}`,
      permanent,
    ),
  };
}

export const basicAuth = (client: Pick<OAuthClient, 'clientId' | 'clientSecret'>) =>
  `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;

/** Encrypts a token set for storage (the same binding the refresh path reads). */
export function encryptTokens(
  secrets: SecretBox,
  integrationId: string,
  body: TokenBody,
): { tokensEnc: string; expiresIn: number } {
  const next: StoredTokens = {
    accessToken: body.access_token,
    ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
  };
  return { tokensEnc: secrets.encryptJson(next, tokensAad(integrationId)), expiresIn: expiresInOf(body) };
}

/** The stored token set (for revocation at disconnect); undefined when none is stored. */
export function storedTokens(secrets: SecretBox, row: ProviderTokenRow | undefined): StoredTokens | undefined {
  return row?.tokens_enc ? secrets.decryptJson<StoredTokens>(row.tokens_enc, tokensAad(row.integration_id)) : undefined;
}

function parseTokenBody(
  text: string,
): { access_token?: unknown; refresh_token?: string; expires_in?: number; error?: string } | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, never>) : undefined;
  } catch {
    return undefined;
  }
}
