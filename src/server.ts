import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app';
import { ensureRetentionSchedule } from './api/retention-schedule';
import { connectClient } from './runtime/temporal-connection';
import { createBaseContext, type BaseContext } from './runtime/context';
import { prepareDeployment } from './runtime/prepare';
import { onShutdownSignal } from './runtime/signals';

export interface ApiServer {
  port: number;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

export async function startApi(ctx: BaseContext): Promise<ApiServer> {
  const temporal = await connectClient(ctx.config);
  const app = createApp({ ...ctx, temporal });
  // Like the scan schedules, the retention Schedule lives in Temporal; start-up keeps it current.
  await ensureRetentionSchedule({
    temporal,
    taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
    intervalMs: ctx.config.RETENTION_INTERVAL,
  }).catch((err: unknown) =>
    ctx.logger.warn({ err: err instanceof Error ? err.message : err }, 'could not create the retention schedule'),
  );
  const server = http.createServer(app);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.HTTP_PORT, ctx.config.HTTP_HOST, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  ctx.logger.info({ host: ctx.config.HTTP_HOST, port }, 'api listening');
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), ctx.config.SHUTDOWN_GRACE_SECONDS * 1000);
      await closed;
      clearTimeout(grace);
      await temporal.connection.close();
    },
  };
}

async function main() {
  const ctx = createBaseContext();
  await prepareDeployment(ctx);
  const api = await startApi(ctx);
  onShutdownSignal(ctx.logger, async () => {
    await api.close();
    await ctx.db.end();
    ctx.logger.info('api stopped');
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
