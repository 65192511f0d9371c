/**
 * Request starts allowed per second for one webhook, as a sliding log: never more than the
 * limit in any window. A fractional rate (0.5/s) becomes one start per 1/rate seconds.
 */
export class SlidingRateLimit {
  private readonly starts: number[] = [];
  private readonly windowMs: number;
  private readonly cap: number;

  constructor(
    readonly perSecond: number,
    // Receivers measure arrivals, which jitter by a few milliseconds against our start times.
    slackMs = 25,
  ) {
    const windowMs = Math.max(1000, 1000 / perSecond);
    this.cap = Math.max(1, Math.floor((perSecond * windowMs) / 1000));
    this.windowMs = windowMs + slackMs;
  }

  /** How many starts may happen now. */
  available(now = Date.now()): number {
    while (this.starts.length > 0 && this.starts[0]! <= now - this.windowMs) this.starts.shift();
    return Math.max(0, this.cap - this.starts.length);
  }

  /** Milliseconds until the next start may happen (0 when one may now). */
  waitMs(now = Date.now()): number {
    if (this.available(now) > 0) return 0;
    return this.starts[0]! + this.windowMs - now;
  }

  take(now = Date.now()): void {
    this.starts.push(now);
  }

  /** Waits until a start is allowed and takes it: called right before the request goes out. */
  async acquire(): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) await new Promise((r) => setTimeout(r, wait));
    this.take();
  }

  /** The starts still inside the window, to carry the limit over to another process. */
  recent(now = Date.now()): number[] {
    this.available(now);
    return [...this.starts];
  }

  /** Adds starts made elsewhere (the lane's previous round, maybe on another worker). */
  seed(starts: readonly number[]): void {
    const merged = new Set([...this.starts, ...starts]);
    this.starts.splice(0, this.starts.length, ...[...merged].sort((a, b) => a - b));
  }
}
