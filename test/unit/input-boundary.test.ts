import {
  checkJsonValue,
  decodeComponentStrict,
  decodeJsonStrict,
  isDateInRange,
  isIsoDateTime,
  parseDateInRange,
} from '../../src/platform/http/input-boundary';
import { isDateTime, parseJsonBody } from '../../src/incoming/inbound-event';

const limits = { maxDepth: 8, maxArrayLength: 5 };

test('invalid UTF-8 is refused, never replaced', () => {
  const r = decodeJsonStrict(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), limits);
  expect(r).toEqual({ ok: false, problem: expect.objectContaining({ code: 'invalid_utf8' }) });
});

test('NUL in a value or a key, and unpaired surrogates, are refused with their path', () => {
  expect(decodeJsonStrict(Buffer.from('{"a":{"b":"x\\u0000"}}'), limits)).toEqual({
    ok: false,
    problem: expect.objectContaining({ code: 'nul_character', path: 'a.b' }),
  });
  expect(decodeJsonStrict(Buffer.from('{"k\\u0000":1}'), limits)).toEqual({
    ok: false,
    problem: expect.objectContaining({ code: 'nul_character' }),
  });
  expect(decodeJsonStrict(Buffer.from('["\\ud800"]'), limits)).toEqual({
    ok: false,
    problem: expect.objectContaining({ code: 'invalid_unicode' }),
  });
  expect(decodeJsonStrict(Buffer.from('["\\ud83d\\ude00"]'), limits).ok).toBe(true);
});

test('depth and array length are bounded, without recursion', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  expect(decodeJsonStrict(Buffer.from(deep), limits)).toEqual({
    ok: false,
    problem: expect.objectContaining({ code: 'too_deep' }),
  });
  expect(checkJsonValue({ a: [1, 2, 3, 4, 5, 6] }, limits)).toEqual(
    expect.objectContaining({ code: 'array_too_long', path: 'a' }),
  );
  expect(checkJsonValue({ a: [1, 2, 3, 4, 5], b: { c: { d: 'ok' } } }, limits)).toBeNull();
});

test('malformed JSON and malformed percent-encoding are values, not throws', () => {
  expect(decodeJsonStrict(Buffer.from('{'), limits)).toEqual({
    ok: false,
    problem: expect.objectContaining({ code: 'malformed_json' }),
  });
  expect(decodeComponentStrict('%E0%A4%A').ok).toBe(false);
  expect(decodeComponentStrict('a%00b').ok).toBe(false);
  expect(decodeComponentStrict('app_1%3Ax')).toEqual({ ok: true, value: 'app_1:x' });
});

test('dates stay between the years 1900 and 9999', () => {
  expect(isDateInRange(new Date('2026-11-30T10:00:00Z'))).toBe(true);
  expect(parseDateInRange('-200000-01-01T00:00:00Z').ok).toBe(false);
  expect(parseDateInRange('+275000-01-01T00:00:00Z').ok).toBe(false);
  expect(isDateTime('-200000-01-01T00:00:00Z')).toBe(false);
  expect(isDateTime('2026-11-30T10:00:00.000Z')).toBe(true);
});

test('provider bodies go through the same strict decoding', () => {
  expect(() => parseJsonBody(Buffer.from('{"a":"\\u0000"}'))).toThrow(/NUL/);
  expect(() => parseJsonBody(Buffer.from([0x22, 0xc3, 0x28, 0x22]))).toThrow(/UTF-8/);
  expect(parseJsonBody(Buffer.from('{"events":[]}'))).toEqual({ events: [] });
});

test('ISO date-times are read field by field, with a zone: no "1" as 2001, no February 30', () => {
  for (const good of ['2026-05-04T17:30:00Z', '2026-05-04t17:30:00.123456z', '2024-02-29T23:59:59+14:00']) {
    expect([good, isIsoDateTime(good)]).toEqual([good, true]);
  }
  const bad = [
    '1',
    '2026',
    '2026-05-04',
    '2026-05-04T17:30:00',
    '2026-05-04 17:30:00Z',
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-05-04T24:00:00Z',
    '2026-05-04T17:60:00Z',
    '2026-05-04T17:30:60Z',
    '2026-05-04T17:30:00+24:00',
    '1899-12-31T23:59:59Z',
    'May 4, 2026 17:30 UTC',
  ];
  for (const s of bad) expect([s, isIsoDateTime(s)]).toEqual([s, false]);
  // ISO 8601's offset without a colon only where a caller allows it (Intuit's legacy format).
  expect(isIsoDateTime('2015-10-05T14:42:19-0700')).toBe(false);
  expect(isIsoDateTime('2015-10-05T14:42:19-0700', { offsetColon: 'optional' })).toBe(true);
});
