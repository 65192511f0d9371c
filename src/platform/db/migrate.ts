import type { Db } from './pool';
import { migrations as allMigrations, type Migration } from './migrations';
import { adoptLegacyIds } from './migrations/legacy-ids';

// Any constant works; it only has to be the same in every replica.
const MIGRATION_LOCK = 727_001;

/** Applies pending migrations once, in list order, even when several replicas start together. */
export async function migrate(db: Db, migrations: readonly Migration[] = allMigrations): Promise<number[]> {
  assertInOrder(migrations);
  const client = await db.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    await adoptLegacyIds(client, migrations);
    const { rows } = await client.query<{ id: number }>('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
      applied.push(m.id);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

/** The list is the apply order: ids 1, 2, 3, … with no gaps, and no name twice. */
function assertInOrder(migrations: readonly Migration[]): void {
  const names = new Set<string>();
  migrations.forEach((m, i) => {
    if (m.id !== i + 1)
      throw new Error(`migration ${m.name} has id ${m.id}, expected ${i + 1} (its place in the list)`);
    if (names.has(m.name)) throw new Error(`two migrations are named ${m.name}`);
    names.add(m.name);
  });
}
