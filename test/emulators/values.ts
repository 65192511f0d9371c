/** Small value helpers both accounting emulators use on seed input and request bodies. */

/** Rounds to cents, as both APIs report amounts. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The input without its `undefined` fields, so spreading it keeps earlier values. */
export function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The UTC calendar day (`YYYY-MM-DD`) of epoch milliseconds. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
