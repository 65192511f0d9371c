import type { Queryable } from '../../platform/db/pool';

export interface ConnectRequestRow {
  integration_id: string;
  provider: string;
  verifier_enc: string;
  redirect_uri: string;
  return_to: string | null;
  expired: boolean;
}

/** Stores a pending Connect sign-in (expired ones are swept on the way). */
export async function insertConnectRequest(
  db: Queryable,
  r: {
    stateHash: string;
    integrationId: string;
    provider: string;
    verifierEnc: string;
    redirectUri: string;
    returnTo: string | null;
    expiresAt: Date;
    browserHash: string;
  },
): Promise<void> {
  await db.query('DELETE FROM provider_connect_requests WHERE expires_at < now()');
  await db.query(
    `INSERT INTO provider_connect_requests
       (state_hash, integration_id, provider, verifier_enc, redirect_uri, return_to, expires_at, browser_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [r.stateHash, r.integrationId, r.provider, r.verifierEnc, r.redirectUri, r.returnTo, r.expiresAt, r.browserHash],
  );
}

/**
 * Consumes a pending sign-in: a state is good for one callback only, and only from the browser
 * that started it. From another browser nothing is consumed ('other_browser').
 */
export async function takeConnectRequest(
  db: Queryable,
  stateHash: string,
  browserHash: string,
): Promise<ConnectRequestRow | 'other_browser' | undefined> {
  const { rows } = await db.query<ConnectRequestRow>(
    `DELETE FROM provider_connect_requests WHERE state_hash = $1 AND browser_hash = $2
     RETURNING integration_id, provider, verifier_enc, redirect_uri, return_to, expires_at < now() AS expired`,
    [stateHash, browserHash],
  );
  if (rows[0]) return rows[0];
  const other = await db.query('SELECT 1 FROM provider_connect_requests WHERE state_hash = $1', [stateHash]);
  return other.rowCount ? 'other_browser' : undefined;
}

export async function deleteConnectRequests(db: Queryable, integrationId: string): Promise<void> {
  await db.query('DELETE FROM provider_connect_requests WHERE integration_id = $1', [integrationId]);
}
