import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  deleteApiClient,
  findApiClientBySecretHash,
  findClientByAccessToken,
  insertAccessToken,
  insertApiClient,
  type ApiClientRow,
  type ApiScope,
} from './api-clients';
import type { Queryable } from '../db/pool';
import { ShortCache } from './short-cache';

/**
 * Issuing and revoking the API's credentials: API keys, API applications (client id + secret)
 * and the access tokens applications obtain. Only hashes are stored; a secret is shown once.
 */

/** Credentials carry their kind in a prefix, so a bearer token is looked up in the right place. */
export const API_KEY_PREFIX = 'sy_key_';
export const ACCESS_TOKEN_PREFIX = 'sy_at_';
const CLIENT_SECRET_PREFIX = 'sy_secret_';

/** What is stored for a credential, and what a presented one is looked up by. */
export const credentialHash = (value: string) => createHash('sha256').update(value).digest('hex');
const randomToken = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/** A credential's scope; `integration` names the integration it is bound to. */
export type CredentialScope =
  { scope: Exclude<ApiScope, 'integration'> } | { scope: 'integration'; integrationId: string };
const ADMIN: CredentialScope = { scope: 'admin' };
const scopeColumns = (s: CredentialScope) => ({
  scope: s.scope,
  integrationId: s.scope === 'integration' ? s.integrationId : null,
});

/** Creates a plain API key for scripts; the key is shown once and only its hash is kept. */
export async function createApiKey(
  db: Queryable,
  name: string,
  scope: CredentialScope = ADMIN,
): Promise<{ client: ApiClientRow; apiKey: string }> {
  const key = randomToken(API_KEY_PREFIX);
  const row = await insertApiClient(db, {
    ...scopeColumns(scope),
    id: randomUUID(),
    name,
    kind: 'api_key',
    clientId: `key_${randomBytes(6).toString('hex')}`,
    secretHash: credentialHash(key),
  });
  return { client: row, apiKey: key };
}

/** Creates an API application (client id + secret) that obtains bearer tokens by client credentials. */
export async function createApiApplication(
  db: Queryable,
  name: string,
  scope: CredentialScope = ADMIN,
): Promise<{ client: ApiClientRow; clientSecret: string }> {
  const secret = randomToken(CLIENT_SECRET_PREFIX);
  const row = await insertApiClient(db, {
    ...scopeColumns(scope),
    id: randomUUID(),
    name,
    kind: 'application',
    clientId: `app_${randomBytes(9).toString('hex')}`,
    secretHash: credentialHash(secret),
  });
  return { client: row, clientSecret: secret };
}

/** Issues an access token for an authenticated application; the token itself is never stored. */
export async function issueAccessToken(db: Queryable, apiClientId: string, ttlSeconds: number): Promise<string> {
  const token = randomToken(ACCESS_TOKEN_PREFIX);
  await insertAccessToken(db, credentialHash(token), apiClientId, new Date(Date.now() + ttlSeconds * 1000));
  return token;
}

/**
 * Known API keys (by hash) for one second: a script sending many requests costs one lookup a
 * second, not one per request. Only found clients are kept, so a new key works at once; a
 * revoked one stops at once on the process that revoked it and within a second on the others.
 * Access tokens are looked up every time: they expire, and their expiry is the database's.
 */
const knownKeys = new ShortCache<ApiClientRow | undefined>(1000);

/** The client behind a bearer credential, or undefined when it is unknown, expired, revoked or disabled. */
export async function clientForCredential(db: Queryable, credential: string): Promise<ApiClientRow | undefined> {
  const hash = credentialHash(credential);
  if (credential.startsWith(ACCESS_TOKEN_PREFIX)) return findClientByAccessToken(db, hash);
  if (!credential.startsWith(API_KEY_PREFIX)) return undefined;
  return knownKeys.get(
    hash,
    async () => {
      const found = await findApiClientBySecretHash(db, 'api_key', hash);
      return found && !found.disabled ? found : undefined;
    },
    (client) => client !== undefined,
  );
}

/** Deletes an API client with its tokens; false when there was none. */
export async function revokeApiClient(db: Queryable, id: string): Promise<boolean> {
  const deleted = await deleteApiClient(db, id);
  knownKeys.forget();
  return deleted;
}
