/**
 * A concurrency cap per key. Outlook allows four concurrent requests per app per mailbox;
 * queueing here costs nothing, while going over earns a 429 and a Retry-After wait.
 */
export class KeyedLimiter {
  readonly #slots = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(readonly limit: number) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const slot = this.#slots.get(key) ?? { active: 0, waiting: [] };
    this.#slots.set(key, slot);
    if (slot.active >= this.limit) await new Promise<void>((resolve) => slot.waiting.push(resolve));
    else slot.active += 1;
    try {
      return await fn();
    } finally {
      const next = slot.waiting.shift();
      // Hand the slot straight to the next waiter; only free it when nobody waits.
      if (next) next();
      else {
        slot.active -= 1;
        if (slot.active === 0) this.#slots.delete(key);
      }
    }
  }
}
