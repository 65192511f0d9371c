// Rate-limiting building blocks shared by the provider emulators. Providers count
// rolling windows (not fixed calendar buckets), so a window keeps the timestamp of every
// admitted call and frees one slot exactly `windowMs` after that call.

/** Milliseconds since the epoch, as seen by an emulator (which may run ahead of real time). */
export type Clock = () => number;

/** A clock that tests can move forward, rolling windows and expiring tokens without waiting. */
export function offsetClock(base: Clock = Date.now): { now: Clock; advance: (ms: number) => void } {
  let offsetMs = 0;
  return {
    now: () => base() + offsetMs,
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

/** A rolling window admitting at most `limit` calls per `windowMs`. */
export class SlidingWindowCounter {
  private stamps: number[] = [];
  private head = 0;

  constructor(
    public limit: number,
    public readonly windowMs: number,
  ) {}

  /** Calls still admissible at `now`. */
  remaining(now: number): number {
    this.evict(now);
    return Math.max(0, this.limit - this.size());
  }

  /** Milliseconds until one more call would be admitted (0 when it would be now). */
  msUntilFree(now: number): number {
    this.evict(now);
    const excess = this.size() - this.limit;
    if (excess < 0) return 0;
    // The call that must leave the window for one slot to open is `excess` places in.
    const stamp = this.stamps[this.head + excess];
    return stamp === undefined ? this.windowMs : Math.max(1, stamp + this.windowMs - now);
  }

  record(now: number): void {
    this.stamps.push(now);
  }

  reset(): void {
    this.stamps = [];
    this.head = 0;
  }

  private size(): number {
    return this.stamps.length - this.head;
  }

  private evict(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.stamps.length && (this.stamps[this.head] ?? Infinity) <= cutoff) this.head += 1;
    // Compact lazily so eviction stays O(1) amortised under thousands of calls.
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
  }
}

/** Counts in-flight calls; a slot is released exactly once however the call ends. */
export class ConcurrencyGate {
  private current = 0;
  private peak = 0;

  constructor(public limit: number) {}

  get inFlight(): number {
    return this.current;
  }

  /** Highest number of simultaneous calls seen since the last `resetPeak`. */
  get maxObserved(): number {
    return this.peak;
  }

  /** Takes a slot, or returns null when the gate is full. The returned release is idempotent. */
  tryAcquire(): (() => void) | null {
    if (this.current >= this.limit) return null;
    this.current += 1;
    this.peak = Math.max(this.peak, this.current);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.current -= 1;
    };
  }

  resetPeak(): void {
    this.peak = this.current;
  }
}

/** One named window taking part in an admission decision. */
export interface WindowRule<P extends string> {
  problem: P;
  counter: SlidingWindowCounter;
}

export type Admission<P extends string> =
  { ok: true; release: () => void } | { ok: false; problem: P; retryAfterSeconds: number };

/**
 * Admits a call only if every window and the gate have room, and only then records it,
 * so a rejected call consumes no quota. Rules are checked in order; the first full one
 * names the problem, hence callers list the longest-lasting windows first.
 */
export function admit<P extends string>(
  rules: readonly WindowRule<P>[],
  gate: { problem: P; gate: ConcurrencyGate } | undefined,
  now: number,
  concurrentRetryAfterSeconds = 1,
): Admission<P> {
  for (const rule of rules) {
    if (rule.counter.remaining(now) <= 0) {
      return {
        ok: false,
        problem: rule.problem,
        retryAfterSeconds: toRetryAfterSeconds(rule.counter.msUntilFree(now)),
      };
    }
  }
  let release = noop;
  if (gate) {
    const taken = gate.gate.tryAcquire();
    if (!taken) return { ok: false, problem: gate.problem, retryAfterSeconds: concurrentRetryAfterSeconds };
    release = taken;
  }
  for (const rule of rules) rule.counter.record(now);
  return { ok: true, release };
}

/** Whole seconds for a `Retry-After` header, never 0 (0 invites an immediate hammering retry). */
export function toRetryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Lazily creates one value per key (tenant, realm) and keeps it. */
export class KeyedState<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly create: (key: string) => V) {}

  get(key: string): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = this.create(key);
      this.entries.set(key, value);
    }
    return value;
  }

  values(): IterableIterator<[string, V]> {
    return this.entries.entries();
  }

  clear(): void {
    this.entries.clear();
  }
}

/** A window's length and where its limit is read from, so a limit change reaches live counters. */
export interface WindowSpec {
  windowMs: number;
  limit: () => number;
}

/** The rolling windows and concurrency gate each tenant (Xero) or realm (QuickBooks) has. */
export interface ScopeLimits<W extends string> {
  windows: Record<W, SlidingWindowCounter>;
  gate: ConcurrencyGate;
}

/** Per-scope windows and gates, created on first use and kept in step with the configured limits. */
export class ScopedLimits<W extends string> {
  private readonly scopes: KeyedState<ScopeLimits<W>>;

  constructor(
    private readonly specs: Record<W, WindowSpec>,
    private readonly concurrent: () => number,
  ) {
    this.scopes = new KeyedState(() => ({
      windows: this.mapWindows((spec) => new SlidingWindowCounter(spec.limit(), spec.windowMs)),
      gate: new ConcurrencyGate(concurrent()),
    }));
  }

  get(scope: string): ScopeLimits<W> {
    return this.scopes.get(scope);
  }

  /** Applies changed limits to every scope already seen. */
  applyLimits(): void {
    for (const [, scope] of this.scopes.values()) {
      for (const name of this.names()) scope.windows[name].limit = this.specs[name].limit();
      scope.gate.limit = this.concurrent();
    }
  }

  /** Empties every window, as if a quiet day had passed. */
  resetWindows(): void {
    for (const [, scope] of this.scopes.values()) for (const name of this.names()) scope.windows[name].reset();
  }

  /** The most simultaneous calls each scope has seen since `resetPeaks`. */
  peaks(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, scope] of this.scopes.values()) out[key] = scope.gate.maxObserved;
    return out;
  }

  resetPeaks(): void {
    for (const [, scope] of this.scopes.values()) scope.gate.resetPeak();
  }

  private names(): W[] {
    return Object.keys(this.specs) as W[];
  }

  private mapWindows(make: (spec: WindowSpec) => SlidingWindowCounter): Record<W, SlidingWindowCounter> {
    return Object.fromEntries(this.names().map((name) => [name, make(this.specs[name])])) as Record<
      W,
      SlidingWindowCounter
    >;
  }
}

function noop(): void {}
