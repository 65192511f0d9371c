import pg from 'pg';
import { claimIntakeJobs, deferIntakeJobs, deleteIntakeJobs, INTAKE_CHANNEL, type IntakeJobRow } from './jobs';
import type { Db } from '../db/pool';
import type { Logger } from '../logger';
import type { JobFamily, StarterDeps } from './family';
import { contextFromTraceparent, inSpan, linkTo, SpanKind } from '../tracing';

export interface StarterSettings {
  concurrency: number;
  batch: number;
  pollIntervalMs: number;
}

export interface IntakeStarterDeps extends StarterDeps {
  db: Db;
  /** For the dedicated LISTEN connection; the pool's clients come and go. */
  databaseUrl: string;
  logger: Logger;
  settings: StarterSettings;
  /** The workflow families by outbox kind (src/families.ts): the platform knows none of them. */
  families: ReadonlyMap<string, JobFamily<never>>;
}

// A claim outlives any one Temporal call (each gets CALL_DEADLINE_MS), so two starters never
// run the same row at once; a starter that dies only delays its rows by this much.
const LEASE_SECONDS = 60;
const CALL_DEADLINE_MS = 15_000;
const MAX_BACKOFF_MS = 30_000;

const backoffMs = (tries: number) => Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(tries, 10));

/**
 * Turns committed outbox rows into workflow starts and signals. Woken at once in-process and by
 * LISTEN/NOTIFY from any process, and by a slow poll when both are missed. Rows are claimed with
 * FOR UPDATE SKIP LOCKED under a lease, so any number of API replicas and workers may run one;
 * each family's run is idempotent by workflow id, so a row run twice starts one workflow.
 */
export class IntakeStarter {
  private running = false;
  private again = false;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  private listener: pg.Client | undefined;
  private relisten: NodeJS.Timeout | undefined;
  private readonly families: ReadonlyMap<string, JobFamily<never>>;
  private readonly log: Logger;

  constructor(private readonly deps: IntakeStarterDeps) {
    this.families = deps.families;
    this.log = deps.logger.child({ component: 'intake-starter' });
  }

  start(): void {
    this.poll = setInterval(() => this.wake(), this.deps.settings.pollIntervalMs);
    this.poll.unref();
    void this.listen();
    this.wake();
  }

  /** Runs a round now, or right after the current one. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = this.rounds().finally(() => {
      this.running = false;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.relisten);
    await this.idle;
    await this.listener?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    // Named like the pool's connections, so pg_stat_activity shows whose listener this is.
    const poolName = this.deps.db.options.application_name;
    const client = new pg.Client({
      connectionString: this.deps.databaseUrl,
      ...(poolName ? { application_name: `${poolName}-listen` } : {}),
    });
    const retry = () => {
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      if (this.listener === client) this.listener = undefined;
      if (!this.stopped) this.relisten = setTimeout(() => void this.listen(), 1000);
    };
    client.on('error', retry);
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query(`LISTEN ${INTAKE_CHANNEL}`);
      this.listener = client;
      // Anything committed while we were not listening.
      this.wake();
    } catch {
      retry();
    }
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        const claimed = await claimIntakeJobs(this.deps.db, this.deps.settings.batch, LEASE_SECONDS);
        if (claimed.length === this.deps.settings.batch) this.again = true;
        if (claimed.length > 0) await this.runJobs(claimed);
      } catch (err) {
        // PostgreSQL unreachable: the poll tries again.
        this.log.warn({ err: (err as Error).message }, 'intake round failed');
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async runJobs(rows: IntakeJobRow[]): Promise<void> {
    const groups = new Map<string, IntakeJobRow[]>();
    for (const row of rows) {
      const key = `${row.kind}\u0000${row.workflow_id}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const done: string[] = [];
    const queue = [...groups.values()];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        if (await this.runGroup(group)) done.push(...group.map((r) => r.id));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.settings.concurrency, queue.length) }, worker));
    await deleteIntakeJobs(this.deps.db, done);
  }

  private async runGroup(group: IntakeJobRow[]): Promise<boolean> {
    const { kind, workflow_id: workflowId } = group[0]!;
    const family = this.families.get(kind);
    const ids = group.map((r) => r.id);
    const tries = Math.max(...group.map((r) => r.tries));
    if (!family) {
      // A newer replica may know the kind (rolling upgrade): keep the rows.
      await deferIntakeJobs(this.deps.db, ids, MAX_BACKOFF_MS, `unknown job kind ${kind}`);
      return false;
    }
    try {
      // The call joins the trace of the request that stored the first job; jobs merged into it
      // (one signal for many) are linked.
      const [first, ...rest] = group.map((r) => r.traceparent);
      await inSpan(
        `intake.start ${kind}`,
        {
          kind: SpanKind.PRODUCER,
          parent: contextFromTraceparent(first),
          links: rest.map(linkTo).filter((l) => l !== undefined),
          attributes: {
            'switchyard.job_kind': kind,
            'switchyard.workflow_id': workflowId,
            'switchyard.jobs': ids.length,
          },
        },
        () =>
          this.deps.temporal.withDeadline(Date.now() + CALL_DEADLINE_MS, () =>
            family.run(this.deps, workflowId, group.map((r) => r.payload) as never[]),
          ),
      );
      this.log.debug({ kind, workflowId, jobs: ids.length }, 'handed to temporal');
      return true;
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      const level = tries > 3 ? 'error' : 'warn';
      this.log[level]({ kind, workflowId, tries, err: message }, 'could not hand work to Temporal; will retry');
      await deferIntakeJobs(this.deps.db, ids, backoffMs(tries), message).catch(() => undefined);
      return false;
    }
  }
}
