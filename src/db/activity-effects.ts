import type { Queryable } from './pool';

/** The stored result of a finished activity execution or step, if any. */
export async function getEffect<T>(db: Queryable, key: string): Promise<{ result: T } | undefined> {
  const { rows } = await db.query<{ result: T }>('SELECT result FROM activity_effects WHERE key = $1', [key]);
  return rows[0];
}

/** Records a result once; a second writer for the same key leaves the first in place. */
export async function putEffect(db: Queryable, key: string, result: unknown): Promise<void> {
  await db.query('INSERT INTO activity_effects (key, result) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
    key,
    JSON.stringify(result ?? null),
  ]);
}
