import { classifyResponse, nextRetryDelayMs, parseRetryAfter } from './response';

const now = new Date('2026-01-01T00:00:00Z');

test('2xx succeeds, 410 stops, redirects and errors retry', () => {
  expect(classifyResponse(204, {}, now).kind).toBe('success');
  expect(classifyResponse(410, {}, now).kind).toBe('gone');
  const redirect = classifyResponse(302, { location: 'http://elsewhere' }, now);
  expect(redirect).toMatchObject({ kind: 'retry' });
  expect(redirect.kind === 'retry' && redirect.reason).toMatch(/redirects are not followed/);
  expect(classifyResponse(500, {}, now)).toEqual({ kind: 'retry', reason: 'the receiver answered 500' });
});

test('Retry-After counts only on 429/502/503/504, in seconds or as a date', () => {
  expect(classifyResponse(429, { 'retry-after': '7' }, now)).toMatchObject({ retryAfterMs: 7000 });
  expect(classifyResponse(503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toMatchObject({
    retryAfterMs: 30_000,
  });
  expect(classifyResponse(500, { 'retry-after': '7' }, now)).not.toHaveProperty('retryAfterMs');
  expect(parseRetryAfter('soon', now)).toBeUndefined();
  expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
});

test('the next delay follows the schedule, stretched by Retry-After up to the cap', () => {
  const schedule = [5000, 300_000];
  expect(nextRetryDelayMs(schedule, 1, undefined, 60_000)).toBe(5000);
  expect(nextRetryDelayMs(schedule, 2, undefined, 60_000)).toBe(300_000);
  expect(nextRetryDelayMs(schedule, 3, undefined, 60_000)).toBeUndefined();
  expect(nextRetryDelayMs(schedule, 1, 20_000, 60_000)).toBe(20_000);
  expect(nextRetryDelayMs(schedule, 1, 999_000, 60_000)).toBe(60_000);
  expect(nextRetryDelayMs(schedule, 1, 1000, 60_000)).toBe(5000);
});
