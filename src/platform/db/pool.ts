import pg from 'pg';

export type Db = pg.Pool;
/** Anything queries can run on: the pool or a client inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

export interface PoolSize {
  max: number;
  /** Connections kept open while idle (`warmPool` opens them at start). */
  min: number;
  /** How long a connection above `min` may sit idle before it is closed. */
  idleMs: number;
}

/**
 * A pool of `size` connections (a number: at most that many, none kept while idle).
 * `applicationName` is what PostgreSQL shows for them (pg_stat_activity.application_name).
 */
export function createPool(connectionString: string, size: number | PoolSize, applicationName?: string): Db {
  if (typeof size === 'number') size = { max: size, min: 0, idleMs: 10_000 };
  const pool = new pg.Pool({
    connectionString,
    max: size.max,
    min: Math.min(size.min, size.max),
    idleTimeoutMillis: size.idleMs,
    connectionTimeoutMillis: 5000,
    ...(applicationName ? { application_name: applicationName } : {}),
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Opens the pool's kept connections (its `min`) before traffic arrives. A new connection costs a
 * backend fork and a SCRAM exchange (thousands of PBKDF2 rounds on both ends), several
 * milliseconds of CPU each: left to the first burst, they land on the answers providers are
 * timing. Best effort; a database that is not there yet is found by the first real query.
 */
export async function warmPool(db: Db): Promise<void> {
  const clients = await Promise.allSettled(Array.from({ length: db.options.min ?? 0 }, () => db.connect()));
  for (const c of clients) if (c.status === 'fulfilled') c.value.release();
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
  const e = err as { code?: string; message?: string; syscall?: string };
  if (typeof e?.code === 'string' && /^(08|57P0[1-3]|53300)/.test(e.code)) return true;
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET' || e?.code === 'ENOTFOUND') return true;
  // Over a Unix socket, a stopped server is a missing socket file.
  if (e?.code === 'ENOENT' && e.syscall === 'connect') return true;
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
