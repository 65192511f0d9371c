import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app';
import { createIntakeRuntime } from './platform/intake/runtime';
import { JOB_FAMILIES } from './families';
import { schedulePruneRejected } from './platform/http/abuse-limits';
import { ensureRetentionSchedule } from './retention/starter';
import { refreshScanSchedules } from './mail/mailbox-service';
import { mailSettings } from './mail/settings';
import { connectClient } from './platform/temporal/connection';
import { createBaseContext, type BaseContext } from './platform/context';
import { prepareDeployment } from './platform/prepare';
import { onShutdownSignal } from './platform/signals';
import { wakeLanesWithQueuedWork } from './outgoing/lane-starter';
import { warmPool } from './platform/db/pool';
import { activeTracing } from './platform/tracing';

export interface ApiServer {
  port: number;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

export async function startApi(ctx: BaseContext): Promise<ApiServer> {
  const temporal = await connectClient(ctx.config);
  await warmPool(ctx.db);
  const intake = createIntakeRuntime({ ...ctx, temporal, families: JOB_FAMILIES });
  const app = createApp({ ...ctx, temporal, intake });
  // Like the scan schedules, the retention Schedule lives in Temporal; start-up keeps it current.
  await ensureRetentionSchedule({
    temporal,
    taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
    intervalMs: ctx.config.RETENTION_INTERVAL,
  }).catch((err: unknown) =>
    ctx.logger.warn({ err: err instanceof Error ? err.message : err }, 'could not create the retention schedule'),
  );
  // Scan schedules carry their interval: re-applied so a changed MAILBOX_SCAN_* setting reaches them.
  await refreshScanSchedules({
    db: ctx.db,
    temporal,
    taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
    settings: mailSettings(ctx.config),
  }).catch((err: unknown) =>
    ctx.logger.warn({ err: err instanceof Error ? err.message : err }, 'could not refresh the scan schedules'),
  );
  // A request must arrive whole within HTTP_REQUEST_TIMEOUT_MS (Node answers 408 and closes the
  // socket): a false Content-Length or a slow trickle cannot hold a connection open.
  const requestTimeout = ctx.config.HTTP_REQUEST_TIMEOUT_MS;
  const server = http.createServer(
    {
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 60_000),
      connectionsCheckingInterval: Math.min(1000, requestTimeout),
    },
    app,
  );
  server.keepAliveTimeout = 5000;
  const stopPruning = schedulePruneRejected(
    ctx.db,
    { retentionHours: ctx.config.REJECTED_REQUESTS_RETENTION_HOURS, maxRows: ctx.config.REJECTED_REQUESTS_MAX_ROWS },
    ctx.logger,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.HTTP_PORT, ctx.config.HTTP_HOST, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  ctx.logger.info({ host: ctx.config.HTTP_HOST, port }, 'api listening');
  // Deliveries queued before an upgrade: every lane with queued work is woken once at start-up.
  wakeLanesWithQueuedWork(ctx.db).then(
    (n) => n > 0 && ctx.logger.info({ lanes: n }, 'woke delivery lanes with queued work'),
    (err: unknown) => ctx.logger.warn({ err }, 'could not wake delivery lanes at start-up'),
  );
  return {
    port,
    close: async () => {
      stopPruning();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), ctx.config.SHUTDOWN_GRACE_SECONDS * 1000);
      await closed;
      clearTimeout(grace);
      await intake.stop();
      await temporal.connection.close();
      await activeTracing()?.shutdown();
    },
  };
}

async function main() {
  const ctx = createBaseContext('api');
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
