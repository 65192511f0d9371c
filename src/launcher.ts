import fs from 'node:fs';
import path from 'node:path';
import { createApiKey } from './platform/security/api-credentials';
import { loadConfig, type Config } from './platform/config';
import { countApiClients } from './platform/security/api-clients';
import { createBaseContext, type BaseContext } from './platform/context';
import { loadMasterKey } from './platform/security/secret-box';
import { prepareEmbeddedPostgres, StartupError } from './embedded/embedded-postgres';
import { isOurs, readPidFiles, removePidFile, stopRecorded, writePidFile } from './embedded/pid-files';
import { prepareDeployment } from './platform/prepare';
import { Supervisor } from './embedded/supervisor';
import { findTemporalCli, MISSING_CLI_HELP } from './embedded/temporal-cli';
import { startTemporalDevServer } from './embedded/temporal-dev-server';
import { startWatchdog, type Watchdog } from './embedded/watchdog';
import { startWorkerProcess } from './embedded/worker-process';
import { createLogger, type Logger } from './platform/logger';
import { resolveLogFormat } from './platform/log-format';
import { onShutdownSignal } from './platform/signals';
import { startApi } from './server';
import { browsableHost, startBanner } from './embedded/banner';

/** Restarts of one child allowed in `RESTART_WINDOW_MS` before the launcher gives up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 120_000;

/**
 * Children left by a launcher that was killed (pid files in `<dataDir>/run`, each checked
 * against its command line) are stopped before anything starts; a live launcher is refused.
 */
async function sweepOrphans(dataDir: string, logger: Logger): Promise<void> {
  for (const rec of readPidFiles(dataDir)) {
    if (rec.name === 'launcher') {
      if (rec.pid !== process.pid && isOurs(rec.pid, rec.match)) {
        throw new StartupError(
          `another Switchyard launcher (pid ${rec.pid}) is running with ${dataDir}; stop it first`,
        );
      }
    } else if (isOurs(rec.pid, rec.match)) {
      logger.warn(
        { part: rec.name, pid: rec.pid },
        `stopping ${rec.name} (pid ${rec.pid}) left running by an earlier launcher`,
      );
      await stopRecorded(rec);
    }
    removePidFile(dataDir, rec.name);
  }
}

/**
 * The embedded default in one command: Temporal dev server, PostgreSQL, migrations, the worker
 * (its own process) and the API (this process), all supervised.
 */
async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`switchyard: invalid settings: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  // Resolved here, against the launcher's own stdout: the worker it starts writes to the same place.
  const logFormat = resolveLogFormat(config.LOG_FORMAT);
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'switchyard', role: 'launcher', format: logFormat });
  fs.mkdirSync(config.dataDir, { recursive: true });

  const cleanups: Array<{ what: string; fn: () => Promise<void> }> = [];
  let watchdog: Watchdog | undefined;
  let exiting = false;
  /** Stops what was started, newest first, whatever state it is in; exits with `code`. */
  const shutdown = async (code: number) => {
    if (exiting) return;
    exiting = true;
    // A part that died leaves clients failing in the background ("Channel has been shut down"):
    // expected while stopping, never a crash or a non-zero exit.
    process.on('unhandledRejection', (err) => logger.debug({ err: String(err) }, 'ignored while stopping'));
    for (const { what, fn } of cleanups.reverse()) {
      await fn().catch((err: unknown) =>
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, `stopping ${what} failed`),
      );
    }
    watchdog?.stop();
    removePidFile(config.dataDir, 'watchdog');
    removePidFile(config.dataDir, 'launcher');
    logger.info('stopped');
    logger.flush(() => process.exit(code));
  };
  onShutdownSignal(logger, () => shutdown(0));

  try {
    await sweepOrphans(config.dataDir, logger);
    writePidFile(config.dataDir, { name: 'launcher', pid: process.pid, match: 'launcher', signal: 'SIGTERM' });
    watchdog = startWatchdog(config.dataDir);

    const supervisor = new Supervisor({
      dataDir: config.dataDir,
      logger,
      maxRestarts: MAX_RESTARTS,
      windowMs: RESTART_WINDOW_MS,
      onGiveUp: () => void shutdown(1),
    });
    cleanups.push({ what: 'supervised children', fn: () => supervisor.stopAll() });

    if (config.EMBEDDED_TEMPORAL) {
      const cliPath = findTemporalCli(config.TEMPORAL_CLI_PATH);
      if (!cliPath) throw new StartupError(MISSING_CLI_HELP);
      const [host, port] = config.TEMPORAL_ADDRESS.split(':');
      const options = {
        cliPath,
        dataDir: path.join(config.dataDir, 'temporal'),
        host: host || '127.0.0.1',
        port: Number(port || 7233),
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        nice: config.BACKGROUND_NICE,
        logger,
      };
      await supervisor.add('temporal', 'the Temporal dev server', () => startTemporalDevServer(options));
    }

    let databaseUrl: string | undefined;
    if (!config.DATABASE_URL) {
      const pg = await prepareEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.EMBEDDED_POSTGRES_PORT,
        logger,
        settings: config.EMBEDDED_POSTGRES_SETTINGS,
      });
      await supervisor.add('postgres', 'embedded PostgreSQL', () => pg.start());
      await pg.ensureDatabase();
      databaseUrl = pg.url;
    }

    // The embedded default: a key of its own under the data directory, handed to the API and the worker alike.
    const masterKey = loadMasterKey({
      fromEnv: config.SWITCHYARD_MASTER_KEY,
      dataDir: config.dataDir,
      mode: 'embedded',
    });
    const apiConfig = { ...config, LOG_FORMAT: logFormat, SWITCHYARD_MASTER_KEY: masterKey };
    const ctx: BaseContext = { ...createBaseContext('api', apiConfig, databaseUrl), parts: () => supervisor.states() };
    cleanups.push({ what: 'the database pool', fn: () => ctx.db.end() });
    await prepareDeployment(ctx, config.EMBEDDED_TEMPORAL ? { retentionDays: config.TEMPORAL_RETENTION_DAYS } : {});

    const keyFile = path.join(config.dataDir, 'admin-api-key');
    if ((await countApiClients(ctx.db)) === 0) {
      const { apiKey } = await createApiKey(ctx.db, 'admin (created on first start)');
      fs.writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
      logger.info({ file: keyFile }, 'created the first admin API key');
    }

    await supervisor.add('worker', 'the worker', () =>
      startWorkerProcess({
        dataDir: config.dataDir,
        databaseUrl,
        masterKey,
        nice: config.BACKGROUND_NICE,
        graceMs: (config.SHUTDOWN_GRACE_SECONDS + 10) * 1000,
        logFormat,
        logger,
      }),
    );
    // The worker process runs the intake starter (woken by NOTIFY): the API's event loop and
    // connection pool stay for answering requests.
    const api = await startApi({ ...ctx, config: { ...ctx.config, INTAKE_STARTER_ENABLED: false } });
    cleanups.push({ what: 'the API', fn: () => api.close() });

    process.stdout.write(
      startBanner({
        apiUrl: `http://${browsableHost(config.HTTP_HOST)}:${api.port}`,
        temporalUiUrl: config.TEMPORAL_UI_URL,
        temporalAddress: config.TEMPORAL_ADDRESS,
        database: databaseUrl ? `embedded PostgreSQL on port ${config.EMBEDDED_POSTGRES_PORT}` : 'DATABASE_URL',
        keyFile: path.relative(process.cwd(), keyFile) || keyFile,
        dataDir: config.dataDir,
        colour: logFormat === 'pretty' && Boolean(process.stdout.isTTY),
      }),
    );
  } catch (err) {
    if (exiting) return;
    const message = err instanceof Error ? err.message : String(err);
    logger.error(
      { err: message, ...(err instanceof StartupError ? {} : { stack: (err as Error)?.stack }) },
      'start failed',
    );
    process.stderr.write(`switchyard: could not start: ${message}\n`);
    await shutdown(1);
  }
}

void main();
