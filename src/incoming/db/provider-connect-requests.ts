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
  },
): Promise<void> {
  await db.query('DELETE FROM provider_connect_requests WHERE expires_at < now()');
  await db.query(
    `INSERT INTO provider_connect_requests (state_hash, integration_id, provider, verifier_enc, redirect_uri, return_to, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [r.stateHash, r.integrationId, r.provider, r.verifierEnc, r.redirectUri, r.returnTo, r.expiresAt],
  );
}

/** Consumes a pending sign-in: a state is good for one callback only. */
export async function takeConnectRequest(db: Queryable, stateHash: string): Promise<ConnectRequestRow | undefined> {
  const { rows } = await db.query<ConnectRequestRow>(
    `DELETE FROM provider_connect_requests WHERE state_hash = $1
     RETURNING integration_id, provider, verifier_enc, redirect_uri, return_to, expires_at < now() AS expired`,
    [stateHash],
  );
  return rows[0];
}

export async function deleteConnectRequests(db: Queryable, integrationId: string): Promise<void> {
  await db.query('DELETE FROM provider_connect_requests WHERE integration_id = $1', [integrationId]);
}
