import { RatePacer } from './rate-limit';

test('starts are paced 1/rate apart, so no second holds more than the limit', async () => {
  const pacer = new RatePacer(20, 0);
  const at: number[] = [];
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      await pacer.acquire();
      // The start as the pacer took it (its clock reading plus the interval). A second clock
      // reading here could land late when a loaded machine preempts the test between the two.
      at.push(pacer.next);
    }),
  );
  at.sort((a, b) => a - b);
  for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(49);
  expect(pacer.claimable(1000, pacer.next)).toBe(21);

  const half = new RatePacer(0.5, 0);
  expect(half.claimable(1000, 0)).toBe(1);
  half.seed(5000);
  expect(half.claimable(1000, 0)).toBe(0);
  expect(half.claimable(1000, 4500)).toBe(1);
});
