import { StatementBatcher } from '../../src/platform/db/statement-batcher';

/** A statement that takes `ms` and records each batch it was given. */
function recordingStatement(ms: number, fail?: (items: number[]) => Error | undefined) {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    await new Promise((r) => setTimeout(r, ms));
    const err = fail?.(items);
    if (err) throw err;
    return items.map((i) => i * 10);
  };
  return { batches, run };
}

test('an item alone goes out at once, alone', async () => {
  const s = recordingStatement(1);
  const batcher = new StatementBatcher(s.run, { maxBatch: 10, maxInFlight: 2 });
  expect(await batcher.submit(7)).toBe(70);
  expect(s.batches).toEqual([[7]]);
});

test('items arriving while statements run go together, in order, and each gets its own answer', async () => {
  const s = recordingStatement(20);
  const batcher = new StatementBatcher(s.run, { maxBatch: 10, maxInFlight: 1 });
  const first = batcher.submit(1);
  await new Promise((r) => setTimeout(r, 5)); // the first statement is now running
  const rest = [2, 3, 4, 5].map((i) => batcher.submit(i));
  expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50]);
  expect(s.batches).toEqual([[1], [2, 3, 4, 5]]);
});

test('no statement is larger than maxBatch, and no more than maxInFlight run at once', async () => {
  let running = 0;
  let peak = 0;
  const sizes: number[] = [];
  const batcher = new StatementBatcher(
    async (items: number[]) => {
      sizes.push(items.length);
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return items;
    },
    { maxBatch: 4, maxInFlight: 2 },
  );
  const all = await Promise.all(Array.from({ length: 30 }, (_, i) => batcher.submit(i)));
  expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i));
  expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  expect(peak).toBeLessThanOrEqual(2);
});

test('one bad item fails alone: its batch is retried item by item', async () => {
  const s = recordingStatement(5, (items) => (items.includes(3) ? new Error('bad row 3') : undefined));
  const batcher = new StatementBatcher(s.run, { maxBatch: 10, maxInFlight: 1 });
  const first = batcher.submit(0);
  await new Promise((r) => setTimeout(r, 1));
  const results = await Promise.allSettled([first, ...[1, 2, 3, 4].map((i) => batcher.submit(i))]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
    0,
    10,
    20,
    'bad row 3',
    40,
  ]);
});

test('a database that cannot be reached fails every item of the batch with that error, without retries', async () => {
  const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const s = recordingStatement(5, () => down);
  const batcher = new StatementBatcher(s.run, { maxBatch: 10, maxInFlight: 1 });
  const first = batcher.submit(0);
  await new Promise((r) => setTimeout(r, 1));
  const results = await Promise.allSettled([first, batcher.submit(1), batcher.submit(2)]);
  expect(results.every((r) => r.status === 'rejected' && r.reason === down)).toBe(true);
  expect(s.batches).toEqual([[0], [1, 2]]);
});

test('a statement carries no more than maxWeight, and an item heavier than that goes alone', async () => {
  const s = recordingStatement(20);
  const batcher = new StatementBatcher(s.run, { maxBatch: 10, maxInFlight: 1, maxWeight: 100 }, (i) => i);
  const first = batcher.submit(1);
  await new Promise((r) => setTimeout(r, 5));
  await Promise.all([first, ...[40, 50, 30, 500, 20].map((i) => batcher.submit(i))]);
  expect(s.batches).toEqual([[1], [40, 50], [30], [500], [20]]);
});
