import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Db } from '../db/pool';
import type { Logger } from '../logger';
import { BacklogGate } from './backlog';
import { IntakeStarter } from './starter';
import { IntakeWake } from './wake';
import type { JobFamily } from './family';

/** Intake as one process runs it: the backlog gate ingress checks, and (when enabled) a starter. */
export interface IntakeRuntime {
  backlog: BacklogGate;
  /** After a commit: wakes this process's starter at once and every other process's by NOTIFY. */
  wake: () => void;
  retryAfterSeconds: number;
  stop(): Promise<void>;
}

export function createIntakeRuntime(deps: {
  config: Config;
  db: Db;
  logger: Logger;
  temporal: Client;
  databaseUrl: string;
  /** The workflow families the starter hands outbox rows to, by kind. */
  families: ReadonlyMap<string, JobFamily<never>>;
}): IntakeRuntime {
  const { config } = deps;
  const starter = config.INTAKE_STARTER_ENABLED
    ? new IntakeStarter({
        db: deps.db,
        databaseUrl: deps.databaseUrl,
        logger: deps.logger,
        temporal: deps.temporal,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        families: deps.families,
        settings: {
          concurrency: config.INTAKE_STARTER_CONCURRENCY,
          batch: config.INTAKE_STARTER_BATCH,
          pollIntervalMs: config.INTAKE_POLL_INTERVAL_MS,
        },
      })
    : undefined;
  starter?.start();
  const waker = new IntakeWake(deps.db, deps.logger, starter);
  return {
    backlog: new BacklogGate(deps.db, config.INTAKE_BACKLOG_LIMIT),
    wake: () => waker.wake(),
    retryAfterSeconds: config.INTAKE_RETRY_AFTER_SECONDS,
    stop: async () => {
      await starter?.stop();
    },
  };
}
