import { notifyIntakeStarters } from './jobs';
import type { Db } from '../db/pool';
import type { Logger } from '../logger';

/**
 * Wakes starters after ingress commits: this process's at once, every other process's through a
 * NOTIFY sent on its own, after the commit. Intake transactions do not notify themselves because
 * PostgreSQL lets only one notifying transaction commit at a time (a database-wide lock held
 * through the WAL flush), which turned every request into its own fsync. Here at most one NOTIFY
 * is in flight, and under a burst at most one per `NOTIFY_SPACING_MS`: wakes that arrive
 * meanwhile fold into the next. Each NOTIFY is a transaction of its own, and each one makes every
 * starter run a claim round; spaced out, a burst costs a few dozen of each per second instead of
 * one per request, and a round claims many rows at once. The first wake after a quiet spell goes
 * out at once. A NOTIFY that fails, or a process that dies before sending it, only delays the
 * work until a starter polls.
 */
const NOTIFY_SPACING_MS = 20;

export class IntakeWake {
  private sending = false;
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly local?: { wake(): void },
  ) {}

  wake(): void {
    this.local?.wake();
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = true;
    void this.send();
  }

  private async send(): Promise<void> {
    do {
      this.again = false;
      const sentAt = performance.now();
      try {
        await notifyIntakeStarters(this.db);
      } catch (err) {
        this.logger.warn(
          { err: (err as Error).message },
          'could not notify intake starters; their poll will pick the work up',
        );
        this.again = false;
      }
      const rest = NOTIFY_SPACING_MS - (performance.now() - sentAt);
      if (this.again && rest > 0) await new Promise((r) => setTimeout(r, rest));
    } while (this.again);
    this.sending = false;
  }
}
