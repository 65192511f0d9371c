import { randomUUID } from 'node:crypto';
import type { Db } from '../db/pool';
import {
  expireAccessToken,
  getProviderTokens,
  releaseRefreshLease,
  storeRefreshedTokens,
  takeRefreshLease,
  type ProviderTokenRow,
} from '../db/provider-tokens';
import { safeRequest, type DestinationPolicy } from '../http/safe-request';
import type { SecretBox } from '../security/secret-box';

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
  skewSeconds: number;
  leaseSeconds: number;
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

interface StoredTokens {
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
const tokensAad = (integrationId: string) => `provider-tokens:${integrationId}`;

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
  const deadline = Date.now() + (deps.leaseSeconds + 5) * 1000;
  for (;;) {
    const row = await getProviderTokens(deps.db, client.integrationId, deps.skewSeconds);
    if (row.fresh) return fromRow(deps, row);
    const leased = await takeRefreshLease(deps.db, client.integrationId, owner, deps.leaseSeconds, deps.skewSeconds);
    if (leased) {
      if (leased.fresh) {
        // Someone refreshed between our read and the lease.
        await releaseRefreshLease(deps.db, client.integrationId, owner, null);
        return fromRow(deps, leased);
      }
      return refresh(deps, client, owner, leased);
    }
    if (Date.now() > deadline) {
      throw new TokenRefreshError('another worker is refreshing the access token and has not finished', false);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function refresh(deps: TokenDeps, client: OAuthClient, owner: string, row: ProviderTokenRow): Promise<AccessToken> {
  const previous = row.tokens_enc
    ? deps.secrets.decryptJson<StoredTokens>(row.tokens_enc, tokensAad(client.integrationId))
    : undefined;
  const form = new URLSearchParams({ grant_type: client.grantType });
  let refreshToken: string | undefined;
  if (client.grantType === 'refresh_token') {
    refreshToken = previous?.refreshToken ?? client.initialRefreshToken;
    if (!refreshToken) {
      await releaseRefreshLease(deps.db, client.integrationId, owner, 'no refresh token configured');
      throw new TokenRefreshError('no refresh token is configured for this integration', true);
    }
    form.set('refresh_token', refreshToken);
  } else if (client.scope) {
    form.set('scope', client.scope);
  }

  let failure: TokenRefreshError | undefined;
  try {
    const res = await safeRequest({
      method: 'POST',
      url: client.tokenUrl,
      headers: {
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      timeoutMs: deps.timeoutMs,
      policy: deps.policy,
    });
    const body = parseTokenBody(res.body);
    if (res.status !== 200 || !body?.access_token) {
      const code = body?.error ?? `HTTP ${res.status}`;
      // invalid_grant / invalid_client: the credentials are dead; retrying cannot help.
      const permanent = code === 'invalid_grant' || code === 'invalid_client' || code === 'unauthorized_client';
      failure = new TokenRefreshError(
        `the token endpoint refused the ${client.grantType} grant (${code})${permanent ? ': re-authorise the integration' : ''}`,
        permanent,
      );
    } else {
      // Keep the old refresh token when the provider does not rotate it in this answer.
      const rotated = body.refresh_token ?? refreshToken;
      const next: StoredTokens = { accessToken: body.access_token, ...(rotated ? { refreshToken: rotated } : {}) };
      const tokensEnc = deps.secrets.encryptJson(next, tokensAad(client.integrationId));
      const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 1800;
      const stored = await storeRefreshedTokens(deps.db, client.integrationId, owner, tokensEnc, expiresIn);
      if (!stored) throw new TokenRefreshError('the refresh lease expired before the new tokens were stored', false);
      return { accessToken: next.accessToken, version: tokensEnc };
    }
  } catch (err) {
    if (err instanceof TokenRefreshError) throw err;
    failure = new TokenRefreshError(`the token endpoint could not be reached: ${(err as Error).message}`, false);
  }
  await releaseRefreshLease(deps.db, client.integrationId, owner, failure.message);
  throw failure;
}

function parseTokenBody(text: string): { access_token?: string; refresh_token?: string; expires_in?: number; error?: string } | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, never>) : undefined;
  } catch {
    return undefined;
  }
}
