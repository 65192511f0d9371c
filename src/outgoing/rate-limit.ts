/**
 * Paces one webhook's request starts at `perSecond`: consecutive starts are at least
 * 1/perSecond apart, so no window of one second holds more than the limit, and the requests
 * arrive evenly rather than in bursts. Fractional rates (0.5/s) work the same way.
 */
export class RatePacer {
  private nextAt = 0;
  private readonly intervalMs: number;

  constructor(
    readonly perSecond: number,
    // Timers and clocks round to the millisecond; a little slack keeps the spacing a true minimum.
    slackMs = 2,
  ) {
    this.intervalMs = 1000 / perSecond + slackMs;
  }

  /** How many starts fit within the next `horizonMs` (what a lane may claim now). */
  claimable(horizonMs = 1000, now = Date.now()): number {
    return Math.max(0, Math.floor((now + horizonMs - Math.max(now, this.nextAt)) / this.intervalMs) + 1);
  }

  /** Waits for this start's turn and takes it: called right before the request goes out. */
  async acquire(): Promise<void> {
    for (let wait = this.nextAt - Date.now(); wait > 0; wait = this.nextAt - Date.now())
      await new Promise((r) => setTimeout(r, wait));
    this.nextAt = Date.now() + this.intervalMs;
  }

  /** The earliest next start, to carry the pace over to another process. */
  get next(): number {
    return this.nextAt;
  }

  /** Continues a pace set elsewhere (the lane's previous round, maybe on another worker). */
  seed(nextAt: number): void {
    this.nextAt = Math.max(this.nextAt, nextAt);
  }
}
