import fs from 'node:fs';
import path from 'node:path';
import { createApiKey } from './api/auth';
import { loadConfig } from './config';
import { countApiClients } from './db/api-clients';
import { createBaseContext } from './runtime/context';
import { startEmbeddedPostgres, type EmbeddedDb } from './runtime/embedded-postgres';
import { prepareDeployment } from './runtime/prepare';
import { findTemporalCli, MISSING_CLI_HELP } from './runtime/temporal-cli';
import { startTemporalDevServer, type DevServer } from './runtime/temporal-dev-server';
import { onShutdownSignal } from './runtime/signals';
import { createLogger } from './logger';
import { startApi } from './server';
import { createWorker } from './worker';

/** The embedded default: Temporal dev server, PostgreSQL, migrations, worker and API in one command. */
async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'switchyard' });
  fs.mkdirSync(config.dataDir, { recursive: true });
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => logger.error({ err }, 'cleanup step failed'));
  };

  try {
    let devServer: DevServer | undefined;
    if (config.EMBEDDED_TEMPORAL) {
      const cliPath = findTemporalCli(config.TEMPORAL_CLI_PATH);
      if (!cliPath) throw new Error(MISSING_CLI_HELP);
      const [host, port] = config.TEMPORAL_ADDRESS.split(':');
      devServer = await startTemporalDevServer({
        cliPath,
        dataDir: path.join(config.dataDir, 'temporal'),
        host: host || '127.0.0.1',
        port: Number(port || 7233),
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        logger,
      });
      cleanups.push(() => devServer!.stop());
    }

    let embeddedDb: EmbeddedDb | undefined;
    if (!config.DATABASE_URL) {
      embeddedDb = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.EMBEDDED_POSTGRES_PORT, logger });
      cleanups.push(() => embeddedDb!.stop());
    }

    const ctx = createBaseContext(config, embeddedDb?.url);
    cleanups.push(() => ctx.db.end());
    await prepareDeployment(ctx, devServer ? { retentionDays: config.TEMPORAL_RETENTION_DAYS } : {});

    const keyFile = path.join(config.dataDir, 'admin-api-key');
    if ((await countApiClients(ctx.db)) === 0) {
      const { apiKey } = await createApiKey(ctx.db, 'admin (created on first start)');
      fs.writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
      logger.info({ file: keyFile }, 'created the first admin API key');
    }

    const worker = await createWorker(ctx);
    const running = worker.run();
    cleanups.push(async () => {
      worker.shutdown();
      await running;
    });
    const api = await startApi(ctx);
    cleanups.push(() => api.close());

    const banner = [
      '',
      'Switchyard is running.',
      `  API:          http://localhost:${api.port}   (health: /healthz, readiness: /readyz)`,
      `  Temporal UI:  ${config.TEMPORAL_UI_URL}`,
      `  Admin API key: cat ${path.relative(process.cwd(), keyFile) || keyFile}`,
      `  Data:         ${config.dataDir}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n');
    process.stdout.write(banner);

    onShutdownSignal(logger, async () => {
      await cleanup();
      logger.info('stopped');
      logger.flush(() => process.exit(0));
    });
    await running;
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : err }, 'start failed');
    await cleanup();
    process.exit(1);
  }
}

void main();
