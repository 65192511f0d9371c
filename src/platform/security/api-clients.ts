import type { Queryable } from '../db/pool';

/** What a credential may do: everything, read (GET) only, or one integration's own routes. */
export const API_SCOPES = ['admin', 'read-only', 'integration'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiClientRow {
  id: string;
  name: string;
  kind: 'application' | 'api_key';
  scope: ApiScope;
  /** The integration an `integration` credential is bound to. */
  integration_id: string | null;
  client_id: string;
  disabled: boolean;
  created_at: Date;
  last_used_at: Date | null;
}

const COLUMNS = 'id, name, kind, scope, integration_id, client_id, disabled, created_at, last_used_at';

export async function insertApiClient(
  db: Queryable,
  row: {
    id: string;
    name: string;
    kind: ApiClientRow['kind'];
    clientId: string;
    secretHash: string;
    scope: ApiScope;
    integrationId: string | null;
  },
): Promise<ApiClientRow> {
  const { rows } = await db.query<ApiClientRow>(
    `INSERT INTO api_clients (id, name, kind, client_id, secret_hash, scope, integration_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [row.id, row.name, row.kind, row.clientId, row.secretHash, row.scope, row.integrationId],
  );
  return rows[0]!;
}

export async function findApiClientBySecretHash(
  db: Queryable,
  kind: ApiClientRow['kind'],
  secretHash: string,
): Promise<(ApiClientRow & { secret_hash: string }) | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS}, secret_hash FROM api_clients WHERE kind = $1 AND secret_hash = $2`,
    [kind, secretHash],
  );
  return rows[0];
}

export async function findApiClientByClientId(
  db: Queryable,
  clientId: string,
): Promise<(ApiClientRow & { secret_hash: string }) | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS}, secret_hash FROM api_clients WHERE client_id = $1`, [clientId]);
  return rows[0];
}

export async function countApiClients(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM api_clients');
  return Number(rows[0]!.n);
}

export async function listApiClients(db: Queryable): Promise<ApiClientRow[]> {
  const { rows } = await db.query<ApiClientRow>(`SELECT ${COLUMNS} FROM api_clients ORDER BY created_at`);
  return rows;
}

export async function deleteApiClient(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM api_clients WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export async function insertAccessToken(db: Queryable, tokenHash: string, apiClientId: string, expiresAt: Date) {
  await db.query('INSERT INTO api_tokens (token_hash, api_client_id, expires_at) VALUES ($1, $2, $3)', [
    tokenHash,
    apiClientId,
    expiresAt,
  ]);
  // Opportunistic clean-up keeps the table small without a separate job.
  await db.query("DELETE FROM api_tokens WHERE expires_at < now() - interval '1 day'");
}

/** The client behind a live access token, or undefined when unknown, expired or disabled. */
export async function findClientByAccessToken(db: Queryable, tokenHash: string): Promise<ApiClientRow | undefined> {
  const { rows } = await db.query<ApiClientRow>(
    `SELECT c.id, c.name, c.kind, c.scope, c.integration_id, c.client_id, c.disabled, c.created_at, c.last_used_at
       FROM api_tokens t JOIN api_clients c ON c.id = t.api_client_id
      WHERE t.token_hash = $1 AND t.expires_at > now() AND NOT c.disabled`,
    [tokenHash],
  );
  return rows[0];
}

/** Counts one request in the client's current fixed window; returns the count and when the window ends. */
export async function hitRateLimitWindow(
  db: Queryable,
  apiClientId: string,
  windowSeconds: number,
): Promise<{ count: number; resetsAt: Date }> {
  const { rows } = await db.query<{ count: number; resets_at: Date }>(
    `INSERT INTO rate_limit_windows (api_client_id, window_start, count)
     VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
     ON CONFLICT (api_client_id, window_start) DO UPDATE SET count = rate_limit_windows.count + 1
     RETURNING count, window_start + make_interval(secs => $2) AS resets_at`,
    [apiClientId, windowSeconds],
  );
  return { count: rows[0]!.count, resetsAt: rows[0]!.resets_at };
}
