import { KeyedLimiter } from './limiter';

test('runs at most `limit` tasks per key at once, and keys independently', async () => {
  const limiter = new KeyedLimiter(2);
  const running: Record<string, number> = { a: 0, b: 0 };
  const peak: Record<string, number> = { a: 0, b: 0 };
  const task = (key: string) =>
    limiter.run(key, async () => {
      running[key]! += 1;
      peak[key] = Math.max(peak[key]!, running[key]!);
      await new Promise((r) => setTimeout(r, 5));
      running[key]! -= 1;
      return key;
    });
  const results = await Promise.all([...Array(6)].map((_, i) => task(i % 2 ? 'a' : 'b')));
  expect(results).toHaveLength(6);
  expect(peak).toEqual({ a: 2, b: 2 });
  await expect(limiter.run('a', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
  expect(await limiter.run('a', async () => 'still works')).toBe('still works');
});
