import { intakeBacklog, type IntakeBacklog } from './jobs';
import type { Db } from '../db/pool';

// Counting the outbox on every request would cost more than the insert; a second-old figure is enough.
const REFRESH_MS = 1000;

/**
 * The intake backlog as last measured: unstarted outbox rows and the oldest one's age. Refreshed
 * in the background at most once a second; `full()` never waits for PostgreSQL.
 */
export class BacklogGate {
  private last: IntakeBacklog = { pending: 0, oldestAgeSeconds: 0 };
  private measuredAt = 0;
  private measuring = false;

  constructor(
    private readonly db: Db,
    private readonly limit: number,
  ) {}

  /** True when ingress should refuse new work (0 = no limit). */
  full(): boolean {
    this.refreshSoon();
    return this.limit > 0 && this.last.pending >= this.limit;
  }

  /** A fresh figure, for /readyz and /metrics. */
  async current(): Promise<IntakeBacklog> {
    this.last = await intakeBacklog(this.db);
    this.measuredAt = Date.now();
    return this.last;
  }

  private refreshSoon(): void {
    if (this.measuring || Date.now() - this.measuredAt < REFRESH_MS) return;
    this.measuring = true;
    this.current()
      .catch(() => undefined)
      .finally(() => {
        this.measuring = false;
      });
  }
}
