/**
 * Keyset paging on (timestamp, id), newest first. The timestamp travels as PostgreSQL's own
 * microsecond text (never a JS Date, which keeps only milliseconds), so rows that share a
 * millisecond are neither skipped nor repeated.
 */
export interface Keyset {
  /** UTC timestamp with microseconds, as PostgreSQL printed it: `2026-01-02T03:04:05.123456Z`. */
  at: string;
  id: string;
}

/** A row from a keyset listing carries its own cursor key. */
export type WithKeyset<R> = R & { cursor_at: string };

/** Select-list item giving a timestamptz column at full precision as `cursor_at`. */
export function keysetColumn(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;
}

/** `(ts, id) < (cursor)`; `p` binds a value and returns its placeholder. */
export function keysetBefore(
  tsColumn: string,
  idColumn: string,
  idType: 'uuid' | 'bigint',
  k: Keyset,
  p: (v: unknown) => string,
): string {
  return `(${tsColumn}, ${idColumn}) < (${p(k.at)}::timestamptz, ${p(k.id)}::${idType})`;
}
