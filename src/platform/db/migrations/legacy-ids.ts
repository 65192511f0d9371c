import type { PoolClient } from 'pg';
import type { Migration } from './migration';

/**
 * Databases migrated before the renumbering recorded migrations under their old ids (10 for the
 * intake outbox, 20 for delivery lanes, …). Rewrites each such row to the migration's current id,
 * keeping when it was applied, so the runner sees them as done and applies only what is new.
 *
 * A row is taken as old only when both its id and its name match a migration's `legacyId` and
 * `name`; rows written under the current numbering never do (names are unique, and an old id
 * and a current id of the same migration differ). Runs in one transaction, under the caller's
 * migration lock; a database with nothing to rewrite is left as it is.
 */
export async function adoptLegacyIds(client: PoolClient, migrations: readonly Migration[]): Promise<number> {
  const { rows } = await client.query<{ id: number; name: string }>('SELECT id, name FROM schema_migrations');
  const moves = rows.flatMap((row) => {
    const m = migrations.find((x) => x.legacyId === row.id && x.name === row.name && x.id !== row.id);
    return m ? [{ from: row.id, to: m.id }] : [];
  });
  if (moves.length === 0) return 0;
  await client.query('BEGIN');
  try {
    // Delete all, then insert all: moving one row at a time could collide with an old id not yet moved.
    const { rows: old } = await client.query<{ id: number; name: string; applied_at: Date }>(
      'DELETE FROM schema_migrations WHERE id = ANY($1::int[]) RETURNING id, name, applied_at',
      [moves.map((m) => m.from)],
    );
    for (const row of old) {
      const to = moves.find((m) => m.from === row.id)!.to;
      await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
        to,
        row.name,
        row.applied_at,
      ]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
  return moves.length;
}
