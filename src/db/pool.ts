import pg from 'pg';

export type Db = pg.Pool;
/** Anything queries can run on: the pool or a client inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

export function createPool(connectionString: string, max: number): Db {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export async function withTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  // A checked-out client has no pool listener: the server dying between two of our queries
  // would otherwise be an unhandled 'error' event that ends the process.
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!lost && isDatabaseUnavailable(err)) lost = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', onError);
    // A broken connection is closed rather than handed to the next caller.
    client.release(lost);
  }
}

/** PostgreSQL could not be reached or went away: the client should come back later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && /^(08|57P0[1-3]|53300)/.test(e.code)) return true;
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET' || e?.code === 'ENOTFOUND') return true;
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/i.test(e?.message ?? '');
}

/**
 * Runs `fn` in a transaction of its own on a pool; on a client, inside whatever the caller
 * has open (a caller holding a client owns its transaction).
 */
export async function inTransaction<T>(db: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return isPool(db) ? withTransaction(db, fn) : fn(db);
}

/** True for a pool, where `inTransaction` commits on its own; false for a caller's client. */
export function isPool(db: Queryable): db is Db {
  return db instanceof pg.Pool;
}
