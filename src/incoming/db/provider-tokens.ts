import type { Queryable } from '../../platform/db/pool';

export interface ProviderTokenRow {
  integration_id: string;
  tokens_enc: string | null;
  access_expires_at: Date | null;
  refresh_lease_owner: string | null;
  refresh_lease_until: Date | null;
  refresh_count: number;
  last_refreshed_at: Date | null;
  last_error: string | null;
  updated_at: Date;
  /** Bumped by every store: a refresh stores its result only if the generation it read is current. */
  generation: string;
  connected_at: Date | null;
  connected_tenant_id: string | null;
  /** Computed by the database clock: the access token is valid beyond the refresh skew. */
  fresh: boolean;
}

// Fresh = valid beyond the refresh skew, capped at half the token's lifetime so a short-lived
// token is not refreshed on every call.
const FRESH = `(tokens_enc IS NOT NULL AND access_expires_at > clock_timestamp()
  + LEAST(make_interval(secs => $2), (access_expires_at - COALESCE(last_refreshed_at, access_expires_at)) / 2)) AS fresh`;

const SELECT = `SELECT *, ${FRESH} FROM provider_tokens WHERE integration_id = $1`;

/** The integration's token row (created empty on first use). */
export async function getProviderTokens(
  db: Queryable,
  integrationId: string,
  skewSeconds: number,
): Promise<ProviderTokenRow> {
  const { rows } = await db.query<ProviderTokenRow>(SELECT, [integrationId, skewSeconds]);
  if (rows[0]) return rows[0];
  await db.query('INSERT INTO provider_tokens (integration_id) VALUES ($1) ON CONFLICT DO NOTHING', [integrationId]);
  return (await db.query<ProviderTokenRow>(SELECT, [integrationId, skewSeconds])).rows[0]!;
}

/**
 * Takes the refresh lease unless another caller holds a live one. The returned row is read
 * under the same statement, so the caller can see whether someone refreshed in the meantime;
 * `abandoned` says the previous holder's lease ran out without being given back (it may still
 * be waiting for the provider's answer, or it crashed).
 */
export async function takeRefreshLease(
  db: Queryable,
  integrationId: string,
  owner: string,
  leaseSeconds: number,
  skewSeconds: number,
): Promise<(ProviderTokenRow & { abandoned: boolean }) | undefined> {
  const { rows } = await db.query<ProviderTokenRow & { abandoned: boolean }>(
    `WITH prev AS (SELECT refresh_lease_owner AS prev_owner FROM provider_tokens WHERE integration_id = $1 FOR UPDATE)
     UPDATE provider_tokens SET refresh_lease_owner = $3,
       refresh_lease_until = clock_timestamp() + make_interval(secs => $4)
     FROM prev
     WHERE integration_id = $1 AND (refresh_lease_until IS NULL OR refresh_lease_until < clock_timestamp())
     RETURNING provider_tokens.*, ${FRESH}, prev.prev_owner IS NOT NULL AS abandoned`,
    [integrationId, skewSeconds, owner, leaseSeconds],
  );
  return rows[0];
}

/**
 * Stores refreshed tokens by compare-and-set on the generation they were refreshed from, so a
 * rotated refresh token lands even when the lease has meanwhile expired, and never overwrites
 * a newer set. The lease is given back when this caller still holds it.
 */
export async function storeRefreshedTokens(
  db: Queryable,
  integrationId: string,
  fromGeneration: string,
  owner: string,
  tokensEnc: string,
  expiresInSeconds: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE provider_tokens SET tokens_enc = $4, access_expires_at = clock_timestamp() + make_interval(secs => $5),
       generation = generation + 1,
       refresh_lease_owner = CASE WHEN refresh_lease_owner = $3 THEN NULL ELSE refresh_lease_owner END,
       refresh_lease_until = CASE WHEN refresh_lease_owner = $3 THEN NULL ELSE refresh_lease_until END,
       refresh_count = refresh_count + 1,
       last_refreshed_at = clock_timestamp(), last_error = NULL, updated_at = now()
     WHERE integration_id = $1 AND generation = $2`,
    [integrationId, fromGeneration, owner, tokensEnc, expiresInSeconds],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Stores the tokens a Connect sign-in obtained: they replace whatever was stored (a new
 * generation, so an in-flight refresh of the old set cannot overwrite them).
 */
export async function storeConnectedTokens(
  db: Queryable,
  integrationId: string,
  tokensEnc: string,
  expiresInSeconds: number,
  tenantId: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO provider_tokens (integration_id, tokens_enc, access_expires_at, generation, connected_at,
       connected_tenant_id, last_refreshed_at)
     VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3), 1, now(), $4, clock_timestamp())
     ON CONFLICT (integration_id) DO UPDATE SET tokens_enc = EXCLUDED.tokens_enc,
       access_expires_at = EXCLUDED.access_expires_at, generation = provider_tokens.generation + 1,
       connected_at = now(), connected_tenant_id = EXCLUDED.connected_tenant_id,
       refresh_lease_owner = NULL, refresh_lease_until = NULL, last_refreshed_at = clock_timestamp(),
       last_error = NULL, updated_at = now()`,
    [integrationId, tokensEnc, expiresInSeconds, tenantId],
  );
}

/** Records the Xero tenant the admin chose after connecting. */
export async function setConnectedTenant(db: Queryable, integrationId: string, tenantId: string): Promise<void> {
  await db.query('UPDATE provider_tokens SET connected_tenant_id = $2, updated_at = now() WHERE integration_id = $1', [
    integrationId,
    tenantId,
  ]);
}

/** The integration's token row without creating one. */
export async function findProviderTokens(db: Queryable, integrationId: string): Promise<ProviderTokenRow | undefined> {
  const { rows } = await db.query<ProviderTokenRow>(SELECT, [integrationId, 0]);
  return rows[0];
}

export async function releaseRefreshLease(db: Queryable, integrationId: string, owner: string, error: string | null) {
  await db.query(
    `UPDATE provider_tokens SET refresh_lease_owner = NULL, refresh_lease_until = NULL,
       last_error = COALESCE($3, last_error), updated_at = now()
     WHERE integration_id = $1 AND refresh_lease_owner = $2`,
    [integrationId, owner, error],
  );
}

/** Marks the access token expired when it is still the one that was rejected (by its row version). */
export async function expireAccessToken(db: Queryable, integrationId: string, tokensEnc: string): Promise<void> {
  await db.query(
    `UPDATE provider_tokens SET access_expires_at = clock_timestamp(), updated_at = now()
     WHERE integration_id = $1 AND tokens_enc = $2`,
    [integrationId, tokensEnc],
  );
}

/** Forgets stored tokens, e.g. after the integration was re-authorised with new credentials. */
export async function deleteProviderTokens(db: Queryable, integrationId: string): Promise<void> {
  await db.query('DELETE FROM provider_tokens WHERE integration_id = $1', [integrationId]);
}
