import type { Queryable } from '../db/pool';

/** What a per-address counter counts. */
export type AddressScope = 'rejected_request' | 'auth_failure' | 'token_request';

/** Counts one hit for an address in the current fixed window; returns the count so far and when it resets. */
export async function hitAddressWindow(
  db: Queryable,
  scope: AddressScope,
  address: string,
  windowSeconds: number,
): Promise<{ count: number; resetsAt: Date }> {
  const { rows } = await db.query<{ count: number; resets_at: Date }>(
    `INSERT INTO address_rate_windows (scope, address, window_start, count)
     VALUES ($1, $2, to_timestamp(floor(extract(epoch FROM now()) / $3) * $3), 1)
     ON CONFLICT (scope, address, window_start) DO UPDATE SET count = address_rate_windows.count + 1
     RETURNING count, window_start + make_interval(secs => $3) AS resets_at`,
    [scope, address, windowSeconds],
  );
  return { count: rows[0]!.count, resetsAt: rows[0]!.resets_at };
}

/** The current window's count without counting, for checks made before the outcome is known. */
export async function addressWindowCount(
  db: Queryable,
  scope: AddressScope,
  address: string,
  windowSeconds: number,
): Promise<{ count: number; resetsAt: Date }> {
  const { rows } = await db.query<{ count: number; resets_at: Date }>(
    `SELECT coalesce(max(count), 0)::int AS count,
            to_timestamp(floor(extract(epoch FROM now()) / $3) * $3) + make_interval(secs => $3) AS resets_at
       FROM address_rate_windows
      WHERE scope = $1 AND address = $2 AND window_start = to_timestamp(floor(extract(epoch FROM now()) / $3) * $3)`,
    [scope, address, windowSeconds],
  );
  return { count: rows[0]!.count, resetsAt: rows[0]!.resets_at };
}
