/**
 * A per-process memo of database answers on the request path, each kept `ttlMs` at most: one
 * lookup per key per interval instead of one per request (every round trip costs a socket write
 * and a PostgreSQL wake-up). Writers in this process `forget` what they change, so it applies
 * here at once; other processes see the change within `ttlMs`.
 */
export class ShortCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The remembered value, else `load`'s, remembered only when `keep` says so (a miss, say, is not). */
  async get(key: string, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (!keep(value)) {
      this.entries.delete(key);
      return value;
    }
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, until: now + this.ttlMs });
    return value;
  }

  forget(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}
