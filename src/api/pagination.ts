import { z } from 'zod';
import type { Keyset, WithKeyset } from '../platform/db/keyset';
import { HttpError } from './errors';

/**
 * THE keyset cursor for every listing: base64url JSON `{ t, i }` of the last row's full-precision
 * timestamp (PostgreSQL's microsecond text, see db/keyset.ts) and its id as tie-break. Decoding is
 * strict and bounded: anything this API did not issue — garbage, an id beyond bigint, a year out
 * of range — is a 400 `invalid_cursor`, never a database error.
 */
const MAX_CURSOR_CHARS = 256;
const TIMESTAMP = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}Z$/;
const BIGINT_MAX = 9223372036854775807n;

const uuidId = z.uuid();
const bigintId = z.string().refine((s) => /^[1-9]\d{0,18}$/.test(s) && BigInt(s) <= BIGINT_MAX);

export type CursorId = 'uuid' | 'bigint';

function invalid(): HttpError {
  return new HttpError(400, 'invalid_cursor', 'The cursor is not one this API issued');
}

export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify({ t: k.at, i: k.id })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, idKind: CursorId): Keyset | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const shape = z.object({ t: z.string().regex(TIMESTAMP), i: idKind === 'uuid' ? uuidId : bigintId }).strict();
  const parsed = shape.safeParse(value);
  // A real calendar instant (no 31 February), so PostgreSQL never sees an out-of-range date.
  const t = parsed.success ? new Date(parsed.data.t) : undefined;
  if (
    !parsed.success ||
    !t ||
    Number.isNaN(t.getTime()) ||
    t.toISOString().slice(0, 19) !== parsed.data.t.slice(0, 19)
  ) {
    throw invalid();
  }
  return { at: parsed.data.t, id: parsed.data.i };
}

/** Splits a `limit + 1` fetch into the page and the cursor of the next page (null at the end). */
export function keysetPage<R extends { id: string }>(
  rows: WithKeyset<R>[],
  limit: number,
): { page: WithKeyset<R>[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null };
}

export const limitSchema = z.coerce.number().int().min(1).max(500).default(50);

/** Where a listing's read starts and how many rows it takes (one more than the page shows). */
export interface Page {
  before: Keyset | undefined;
  limit: number;
}

/**
 * One page of a keyset listing, as every list route answers it: `limit + 1` rows read after the
 * cursor, the page presented, and the cursor of the next page.
 */
export async function listPage<R extends { id: string }, T>(
  q: { cursor?: string | undefined; limit: number },
  idKind: CursorId,
  read: (page: Page) => Promise<WithKeyset<R>[]>,
  present: (row: WithKeyset<R>) => T,
): Promise<{ data: T[]; nextCursor: string | null }> {
  const rows = await read({ before: decodeCursor(q.cursor, idKind), limit: q.limit + 1 });
  const { page, nextCursor } = keysetPage(rows, q.limit);
  return { data: page.map(present), nextCursor };
}

/** A log listing's `since` / `until` query as instants. */
export const timeWindow = (q: { since?: string | undefined; until?: string | undefined }) => ({
  since: q.since ? new Date(q.since) : undefined,
  until: q.until ? new Date(q.until) : undefined,
});

/**
 * The same cursor for a listing merged from several tables (the overview's recent errors): the
 * keyset plus the row's kind, each table's ids being its own. Strict the same way.
 */
export function encodeKindCursor(k: Keyset & { kind: string }): string {
  return Buffer.from(JSON.stringify({ t: k.at, i: k.id, k: k.kind })).toString('base64url');
}

export function decodeKindCursor<K extends string>(
  cursor: string | undefined,
  kinds: readonly K[],
): (Keyset & { kind: K }) | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let value: { t?: unknown; i?: unknown; k?: unknown };
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof value;
  } catch {
    throw invalid();
  }
  const kind = kinds.find((k) => k === value?.k);
  if (!kind) throw invalid();
  const inner = Buffer.from(JSON.stringify({ t: value.t, i: value.i })).toString('base64url');
  const keyset = decodeCursor(inner, 'uuid');
  return keyset ? { ...keyset, kind } : undefined;
}
