/** How Xero writes dates: Microsoft JSON dates, calendar-date pairs and US-style token expiry times. */

/** Formats epoch milliseconds the way Xero's API dates look: `/Date(1700000000000+0000)/`. */
export function msDate(ms: number): string {
  return `/Date(${ms}+0000)/`;
}

/** Reads a Xero `/Date(…)/` value back into epoch milliseconds (undefined when it is not one). */
export function parseMsDate(value: string): number | undefined {
  const match = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(value);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** A calendar date as Xero pairs it: `Date` as a JSON date and `DateString` as local midnight. */
export function calendarDate<K extends string>(key: K, isoDate: string) {
  const ms = Date.parse(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`Xero emulator: ${key} must be YYYY-MM-DD, got ${isoDate}`);
  return { [key]: msDate(ms), [`${key}String`]: `${isoDate}T00:00:00` } as Record<K | `${K}String`, string>;
}

/** The `YYYY-MM-DD` of a `DateString`. */
export function dayOf(dateString: string | undefined): string | undefined {
  return dateString?.slice(0, 10);
}

// Xero states token expiry in US-style UTC clock time.
export function xeroClockTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(
    d.getUTCMinutes(),
  )}:${two(d.getUTCSeconds())}`;
}

// Xero accepts both RFC 1123 dates and bare ISO timestamps, the latter meaning UTC.
export function parseIfModifiedSince(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const bareIso = /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$/.test(header.trim());
  const ms = Date.parse(bareIso ? `${header.trim()}${header.includes('T') ? '' : 'T00:00:00'}Z` : header);
  return Number.isNaN(ms) ? undefined : ms;
}
