import type { Queryable } from '../db/pool';

/** What a per-address counter counts. */
export type AddressScope = 'rejected_request' | 'auth_failure' | 'token_request';

/** An address's count in the current fixed window, and when that window resets. */
export interface AddressWindow {
  count: number;
  resetsAt: Date;
}

// The fixed window, `$3` seconds long, that now() falls in.
const WINDOW_START = 'to_timestamp(floor(extract(epoch FROM now()) / $3) * $3)';

const HIT = `INSERT INTO address_rate_windows (scope, address, window_start, count)
     VALUES ($1, $2, ${WINDOW_START}, 1)
     ON CONFLICT (scope, address, window_start) DO UPDATE SET count = address_rate_windows.count + 1
     RETURNING count, window_start + make_interval(secs => $3) AS resets_at`;

const READ = `SELECT coalesce(max(count), 0)::int AS count,
            ${WINDOW_START} + make_interval(secs => $3) AS resets_at
       FROM address_rate_windows
      WHERE scope = $1 AND address = $2 AND window_start = ${WINDOW_START}`;

/**
 * The address's count in the current fixed window. `hit` counts one hit first; without it the
 * count is read as it stands, for checks made before the outcome is known.
 */
export async function addressWindow(
  db: Queryable,
  scope: AddressScope,
  address: string,
  windowSeconds: number,
  hit: boolean,
): Promise<AddressWindow> {
  const { rows } = await db.query<{ count: number; resets_at: Date }>(hit ? HIT : READ, [
    scope,
    address,
    windowSeconds,
  ]);
  return { count: rows[0]!.count, resetsAt: rows[0]!.resets_at };
}
