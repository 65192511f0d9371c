import { loadConfig, type Config } from './config';
import { createPool, type Db } from './db/pool';
import { createLogger, type Logger } from './logger';
import { startTracing } from './tracing';
import { loadMasterKey, SecretBox } from './security/secret-box';

/** A supervised part of the embedded stack (PostgreSQL, the dev server, the worker). */
export type PartState = 'up' | 'restarting' | 'stopped';

/** Supervised parts of the embedded stack by name (`postgres`, `temporal`); absent outside the launcher. */
export type PartStates = () => Record<string, PartState>;

export interface BaseContext {
  config: Config;
  logger: Logger;
  db: Db;
  secrets: SecretBox;
  /** The database's URL, for connections outside the pool (the intake starter's LISTEN). */
  databaseUrl: string;
  /** Set by the launcher: the state of the children it supervises. */
  parts?: PartStates | undefined;
}

/** Which part of Switchyard a process is; its database connections are named after it. */
export type ProcessRole = 'api' | 'worker' | 'migrate' | 'prune' | 'cli';

/**
 * Where the master key may come from: the API and the worker need SWITCHYARD_MASTER_KEY (the
 * launcher, `npm start`, sets it for both from `<data dir>/master.key`, generated on first
 * start); the command-line tools also read an existing `<data dir>/master.key`.
 */
const KEY_SOURCE: Record<ProcessRole, 'required' | 'file-ok'> = {
  api: 'required',
  worker: 'required',
  migrate: 'file-ok',
  prune: 'file-ok',
  cli: 'file-ok',
};

/** The secret box of this process: the current master key and any previous ones still being read. */
export function createSecretBox(config: Config, mode: 'embedded' | 'required' | 'file-ok'): SecretBox {
  const current = loadMasterKey({ fromEnv: config.SWITCHYARD_MASTER_KEY, dataDir: config.dataDir, mode });
  return SecretBox.fromBase64(current, config.SWITCHYARD_PREVIOUS_KEYS);
}

/** Config, logger, database pool and secret box: what every process role needs. */
export function createBaseContext(role: ProcessRole, config: Config = loadConfig(), databaseUrl?: string): BaseContext {
  const logger = createLogger({ level: config.LOG_LEVEL, role, format: config.LOG_FORMAT });
  // First: a missing or malformed key stops the process before it opens any connection.
  const secrets = createSecretBox(config, KEY_SOURCE[role]);
  // Before any client or server exists: they pick the tracer provider up when they are made.
  if (startTracing(config, role)) logger.info({ serviceName: config.OTEL_SERVICE_NAME }, 'tracing on (OpenTelemetry)');
  const url = databaseUrl ?? config.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set (the embedded default sets it; run `npm start`)');
  const db = createPool(
    url,
    {
      max: config.DATABASE_POOL_SIZE,
      min: config.DATABASE_POOL_MIN,
      idleMs: config.DATABASE_POOL_IDLE_SECONDS * 1000,
    },
    `switchyard-${role}`,
  );
  return { config, logger, db, secrets, databaseUrl: url };
}
