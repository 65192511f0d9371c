import { isDatabaseUnavailable, type Db } from './pool';

export interface BatcherLimits {
  /** Items in one statement at most. */
  maxBatch: number;
  /** Statements of this kind running at once; items arriving meanwhile wait and go together. */
  maxInFlight: number;
  /**
   * What one statement may carry, by the batcher's `weigh` (bytes of bodies, say); an item
   * heavier than this still goes, alone.
   */
  maxWeight?: number;
}

/**
 * The ingress intakes' limits: two statements at once keep both cores' PostgreSQL backends
 * busy under a burst while leaving the pool's other connections to everything else; a few MiB
 * of bodies per statement keep a burst of large webhooks from building one huge parameter.
 */
export const INTAKE_BATCH_LIMITS: BatcherLimits = { maxBatch: 64, maxInFlight: 2, maxWeight: 4 * 1024 * 1024 };

/**
 * Group commit for one hot statement: items submitted while `maxInFlight` statements are running
 * wait, and go together in the next one, so under a burst one round trip, one commit and one WAL
 * flush serve many requests, and at low load an item goes out at once, alone (no timer: the wait
 * is never longer than a statement already running). Items submitted in one turn of the event
 * loop leave together.
 *
 * `run` answers each item of a batch, in order (undefined: the statement could not decide that
 * item, and its caller decides it another way). A batch that fails because the database is
 * unreachable fails each of its items with that error; any other failure is retried item by item,
 * so one bad item cannot fail the requests that happened to share its statement.
 */
export class StatementBatcher<I, O> {
  private queue: Array<{ item: I; resolve: (o: O | undefined) => void; reject: (err: unknown) => void }> = [];
  private inFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<Array<O | undefined>>,
    private readonly limits: BatcherLimits,
    private readonly weigh: (item: I) => number = () => 0,
  ) {}

  submit(item: I): Promise<O | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushScheduled && this.inFlight < this.limits.maxInFlight) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.limits.maxInFlight) {
      const batch = this.queue.splice(0, this.batchLength());
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  /** How many queued items the next statement takes: up to maxBatch, within maxWeight. */
  private batchLength(): number {
    const max = Math.min(this.limits.maxBatch, this.queue.length);
    if (this.limits.maxWeight === undefined) return max;
    let weight = this.weigh(this.queue[0]!.item);
    let n = 1;
    while (n < max) {
      weight += this.weigh(this.queue[n]!.item);
      if (weight > this.limits.maxWeight) break;
      n++;
    }
    return n;
  }

  private async send(batch: StatementBatcher<I, O>['queue']): Promise<void> {
    try {
      const results = await this.run(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1 || isDatabaseUnavailable(err)) {
        for (const b of batch) b.reject(err);
        return;
      }
      for (const b of batch) {
        try {
          b.resolve((await this.run([b.item]))[0]);
        } catch (one) {
          b.reject(one);
        }
      }
    }
  }
}

/**
 * A statement under group commit, with one batcher per pool (a process's concurrent requests
 * share its statements): `run` writes a batch on `db` and answers each item, as for
 * `StatementBatcher`; `weigh` is what an item counts against `maxWeight`.
 */
export function groupCommitted<I, O>(
  run: (db: Db, items: I[]) => Promise<Array<O | undefined>>,
  weigh: (item: I) => number,
  limits: BatcherLimits = INTAKE_BATCH_LIMITS,
): (db: Db, item: I) => Promise<O | undefined> {
  const batchers = new WeakMap<Db, StatementBatcher<I, O>>();
  return (db, item) => {
    let batcher = batchers.get(db);
    if (!batcher) {
      batcher = new StatementBatcher((items) => run(db, items), limits, weigh);
      batchers.set(db, batcher);
    }
    return batcher.submit(item);
  };
}
