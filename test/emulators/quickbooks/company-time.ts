/**
 * QuickBooks writes timestamps in the company's local time with an explicit offset
 * (`2026-01-01T10:00:00-07:00`): record stamps to the second, response `time` to the millisecond.
 */
import type { Clock } from '../rate-limiter';

export interface CompanyTime {
  /** A record's `MetaData` time. */
  stamp: (ms: number) => string;
  /** The `time` of a response, now. */
  response: () => string;
}

export function companyTime(now: Clock, offsetMinutes: number): CompanyTime {
  return {
    stamp: (ms) => localTime(ms, offsetMinutes, false),
    response: () => localTime(now(), offsetMinutes, true),
  };
}

function localTime(ms: number, offsetMinutes: number, withMillis: boolean): string {
  const shifted = new Date(ms + offsetMinutes * 60_000).toISOString();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${shifted.slice(0, withMillis ? 23 : 19)}${offset}`;
}
