import type { Queryable } from '../db/pool';
import type { SecretBox } from './secret-box';

/**
 * Re-encrypting every stored secret under the current master key. Each row is rewritten only if
 * it still holds the ciphertext that was read (compare-and-set), so a secret a running process
 * changed meanwhile (a refreshed token) is never overwritten with an older one; such rows are
 * picked up again by the next pass.
 */

/** One encrypted column: where it lives, its row key, and the associated data its owner seals it with. */
export interface StoredSecretColumn {
  table: string;
  column: string;
  key: string;
  /** The column the associated data is built from (often the key itself). */
  owner: string;
  aad: (owner: string) => string;
}

export interface ColumnReport {
  secret: string;
  reencrypted: number;
  /** Rows still under another key (or unreadable) when the rotation gave up. */
  left: number;
  errors: string[];
}

const BATCH = 200;
const PASSES = 3;

const ident = (name: string) => {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`not an identifier: ${name}`);
  return `"${name}"`;
};

/** Rows of one column not yet under the current key, after `after` in key order. */
async function staleRows(db: Queryable, c: StoredSecretColumn, prefix: string, after: string | null) {
  const [t, col, key, owner] = [ident(c.table), ident(c.column), ident(c.key), ident(c.owner)];
  const { rows } = await db.query<{ k: string; o: string; enc: string }>(
    `SELECT ${key}::text AS k, ${owner}::text AS o, ${col} AS enc FROM ${t}
      WHERE ${col} IS NOT NULL AND left(${col}, length($1)) <> $1 AND ($2::text IS NULL OR ${key}::text > $2)
      ORDER BY ${key}::text LIMIT ${BATCH}`,
    [prefix, after],
  );
  return rows;
}

/** Counts the rows of each column by the key id their ciphertext names (`v1` for those from before ids). */
export async function countByKey(db: Queryable, columns: readonly StoredSecretColumn[]) {
  const out: Array<{ secret: string; keyId: string; rows: number }> = [];
  for (const c of columns) {
    const col = ident(c.column);
    const { rows } = await db.query<{ key_id: string; n: string }>(
      `SELECT CASE WHEN ${col} LIKE 'v2:%' THEN split_part(${col}, ':', 2) ELSE split_part(${col}, ':', 1) END AS key_id,
              count(*) AS n
         FROM ${ident(c.table)} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    for (const r of rows) out.push({ secret: `${c.table}.${c.column}`, keyId: r.key_id, rows: Number(r.n) });
  }
  return out;
}

/** Re-encrypts one column's rows under the box's current key; see the module comment. */
async function rotateColumn(db: Queryable, box: SecretBox, c: StoredSecretColumn): Promise<ColumnReport> {
  const prefix = `v2:${box.keyId}:`;
  const report: ColumnReport = { secret: `${c.table}.${c.column}`, reencrypted: 0, left: 0, errors: [] };
  const unreadable = new Set<string>();
  for (let pass = 0; pass < PASSES; pass++) {
    let after: string | null = null;
    for (;;) {
      const rows = await staleRows(db, c, prefix, after);
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.k;
      for (const row of rows) {
        if (unreadable.has(row.k)) continue;
        let fresh: string;
        try {
          fresh = box.encrypt(box.decrypt(row.enc, c.aad(row.o)), c.aad(row.o));
        } catch (err) {
          unreadable.add(row.k);
          report.errors.push(`${c.table} ${row.k}: ${(err as Error).message}`);
          continue;
        }
        const { rowCount } = await db.query(
          `UPDATE ${ident(c.table)} SET ${ident(c.column)} = $1 WHERE ${ident(c.key)}::text = $2 AND ${ident(c.column)} = $3`,
          [fresh, row.k, row.enc],
        );
        report.reencrypted += rowCount ?? 0;
      }
    }
    const left = await staleRows(db, c, prefix, null);
    report.left = left.length;
    if (left.every((r) => unreadable.has(r.k))) break;
  }
  return report;
}

/** Re-encrypts every listed column; the reports say what is left (a process still writing with an old key). */
export async function rotateStoredSecrets(
  db: Queryable,
  box: SecretBox,
  columns: readonly StoredSecretColumn[],
): Promise<ColumnReport[]> {
  const reports: ColumnReport[] = [];
  for (const c of columns) reports.push(await rotateColumn(db, box, c));
  return reports;
}
