import { SlidingRateLimit } from './rate-limit';

test('never more starts than the limit in any window, fractional rates spread out', () => {
  const five = new SlidingRateLimit(5, 0);
  for (let i = 0; i < 5; i++) five.take(1000);
  expect(five.available(1500)).toBe(0);
  expect(five.waitMs(1500)).toBe(500);
  expect(five.available(2000)).toBe(5);

  const half = new SlidingRateLimit(0.5, 0);
  expect(half.available(0)).toBe(1);
  half.take(0);
  expect(half.available(1999)).toBe(0);
  expect(half.available(2000)).toBe(1);
});
