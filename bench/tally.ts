/**
 * Nothing lost or doubled, counted at the receiver by id: which of the expected ids never arrived,
 * and how many arrivals were repeats of an id already seen (a batch counts each item it carries).
 */
export interface Tally {
  expected: number;
  /** Distinct expected ids that arrived. */
  arrived: number;
  lost: number;
  /** Arrivals beyond the first per id (a re-sent delivery counts as doubled). */
  doubled: number;
  /** Arrivals carrying an id nobody expected (e.g. another scenario's). */
  unexpected: number;
}

export function tally(expected: Iterable<string>, arrivals: Iterable<string>): Tally {
  const want = new Set(expected);
  const seen = new Map<string, number>();
  let unexpected = 0;
  for (const id of arrivals) {
    if (!want.has(id)) {
      unexpected++;
      continue;
    }
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  let doubled = 0;
  for (const n of seen.values()) doubled += n - 1;
  return { expected: want.size, arrived: seen.size, lost: want.size - seen.size, doubled, unexpected };
}

/** The ids a receiver request carries: the items of a batch (an array), else the one body. */
export function idsIn(json: unknown, key: string): string[] {
  const items = Array.isArray(json) ? json : [json];
  return items
    .map((i) => (i && typeof i === 'object' ? (i as Record<string, unknown>)[key] : undefined))
    .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
    .map(String);
}

/** Whether every expected id has arrived at least once. */
export function allArrived(expected: ReadonlySet<string>, arrivals: Iterable<string>): boolean {
  const seen = new Set<string>();
  for (const id of arrivals) if (expected.has(id)) seen.add(id);
  return seen.size >= expected.size;
}
