import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkflowBundle,
} from '@temporalio/worker';
import { createInboundActivities } from './activities/incoming/inbound';
import { createMailboxActivities } from './activities/mail';
import { createRetentionActivities } from './activities/retention';
import { retentionSettings } from './retention/settings';
import { KeyedLimiter } from './mail/graph/limiter';
import { mailSettings } from './mail/settings';
import { createProviderBatchActivities } from './activities/incoming/provider-batch';
import { providerRuntime } from './activities/incoming/provider-deps';
import { createOutgoingActivities } from './activities/outgoing';
import { outgoingSettings } from './outgoing/settings';
import { outboundPolicy } from './platform/http/outbound-policy';
import type { BaseContext } from './platform/context';
import { backendsFollowOwnPriority } from './platform/background-priority';
import { createBaseContext } from './platform/context';
import { connectClient, connectionOptions } from './platform/temporal/connection';
import { createIntakeRuntime } from './platform/intake/runtime';
import { JOB_FAMILIES } from './families';
import type { WorkerMessage } from './embedded/worker-process';
import { onShutdownSignal } from './platform/signals';
import type { Logger } from './platform/logger';
import { activeTracing } from './platform/tracing';
import { TRACING_WORKFLOW_INTERCEPTOR_MODULES, tracingWorkerOptions } from './platform/temporal/tracing';

let runtimeInstalled = false;

/** Routes the Temporal SDK's own logs into our structured logger; once per process. */
function installRuntime(ctx: BaseContext): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdkLog = ctx.logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    shutdownSignals: [],
    ...(ctx.config.WORKER_METRICS_ADDRESS
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: ctx.config.WORKER_METRICS_ADDRESS } } } }
      : {}),
    logger: new DefaultLogger(ctx.config.LOG_LEVEL === 'debug' ? 'DEBUG' : 'INFO', (entry) => {
      const level = entry.level.toLowerCase() as Lowercase<LogLevel>;
      const fn = level === 'trace' ? 'trace' : level;
      sdkLog[fn]({ ...entry.meta }, entry.message);
    }),
  });
}

export function createActivities(ctx: BaseContext) {
  const http = { policy: outboundPolicy(ctx.config), timeoutMs: ctx.config.OUTBOUND_TIMEOUT_MS };
  const providers = {
    db: ctx.db,
    logger: ctx.logger,
    secrets: ctx.secrets,
    runtime: providerRuntime(ctx.config, ctx.db, ctx.secrets),
  };
  const mail = mailSettings(ctx.config);
  return {
    ...createMailboxActivities({
      db: ctx.db,
      logger: ctx.logger,
      secrets: ctx.secrets,
      settings: mail,
      limiter: new KeyedLimiter(mail.graphConcurrency),
    }),
    ...createInboundActivities({
      db: ctx.db,
      logger: ctx.logger,
      http,
      providers,
      crashAfterCommit: ctx.config.TEST_CRASH_AFTER_COMMIT,
    }),
    ...createProviderBatchActivities(providers),
    ...createRetentionActivities({ db: ctx.db, logger: ctx.logger, settings: retentionSettings(ctx.config) }),
    ...createOutgoingActivities({
      db: ctx.db,
      logger: ctx.logger,
      secrets: ctx.secrets,
      settings: outgoingSettings(ctx.config),
    }),
  };
}

/**
 * Bundles the workflow code with webpack, as Worker.create would, but with its report (a
 * screenful of module sizes) at debug: a person starting Switchyard needs none of it.
 */
async function bundleWorkflows(logger: Logger): Promise<WorkflowBundle> {
  const log = logger.child({ component: 'workflow-bundler' });
  return bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    workflowInterceptorModules: activeTracing() ? TRACING_WORKFLOW_INTERCEPTOR_MODULES : [],
    logger: new DefaultLogger('TRACE', (entry) => {
      const level = entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : 'debug';
      log[level]({ ...entry.meta }, entry.message);
    }),
  });
}

/** Creates the worker; `run()` resolves once `shutdown()` has let in-flight tasks finish. */
export async function createWorker(ctx: BaseContext): Promise<Worker> {
  installRuntime(ctx);
  const { config } = ctx;
  const connection = await NativeConnection.connect(connectionOptions(config));
  const workflowSource = config.WORKFLOW_BUNDLE_PATH
    ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } }
    : { workflowBundle: await bundleWorkflows(ctx.logger) };
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...workflowSource,
    activities: createActivities(ctx),
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    shutdownGraceTime: `${config.SHUTDOWN_GRACE_SECONDS}s`,
    ...tracingWorkerOptions(),
  });
  const close = worker.run.bind(worker);
  // Close the connection after the worker has drained, whoever triggered the shutdown.
  worker.run = async () => {
    try {
      await close();
    } finally {
      await connection.close();
    }
  };
  return worker;
}

async function main() {
  const ctx = createBaseContext('worker');
  // Under the launcher this process runs at background priority; its queries should too.
  backendsFollowOwnPriority(ctx.db, ctx.logger);
  const worker = await createWorker(ctx);
  // Workers run the intake starter too, so committed work is started even with no API running.
  const temporal = await connectClient(ctx.config);
  const intake = createIntakeRuntime({ ...ctx, temporal, families: JOB_FAMILIES });
  // Stopping twice (the launcher went away, then a signal came) is one stop.
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  onShutdownSignal(ctx.logger, async () => stop());
  if (process.send) {
    // Started by the launcher (src/embedded/worker-process.ts): say so, and stop with it.
    process.once('disconnect', () => {
      ctx.logger.warn('the launcher is gone; stopping');
      stop();
    });
    process.send({ type: 'ready' } satisfies WorkerMessage);
    process.channel?.unref();
  }
  ctx.logger.info(
    { taskQueue: ctx.config.TEMPORAL_TASK_QUEUE, namespace: ctx.config.TEMPORAL_NAMESPACE },
    'worker running',
  );
  await worker.run();
  await intake.stop();
  await temporal.connection.close();
  await ctx.db.end();
  // Spans still batched (the last activities') go out before the process does.
  await activeTracing()?.shutdown();
  ctx.logger.info('worker stopped');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
