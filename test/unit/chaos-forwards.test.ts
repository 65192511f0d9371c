import { countForwards, type ForwardRequest } from '../../bench/chaos-forwards';

const req = (webhookId: string, key: string, status: number | 'hang' = 200): ForwardRequest => ({
  webhookId,
  key,
  status,
});

test('a forward re-sent with its key after a lost answer is deduplicable, not a repeat', () => {
  const counts = countForwards([req('a', 'k1'), req('a', 'k1'), req('b', 'k2')], new Map([['k1', 1]]));
  expect(counts).toEqual({ forwards: 2, repeated: 0, resentSameKey: 1 });
});

test('two keys for one forward, or a re-send the ledger does not explain, are true repeats', () => {
  const counts = countForwards(
    [req('a', 'k1'), req('a', 'k1b'), req('b', 'k2'), req('b', 'k2'), req('c', ''), req('c', '')],
    new Map([['k1', 1]]),
  );
  expect(counts).toEqual({ forwards: 3, repeated: 3, resentSameKey: 0 });
});

test('a refused try before the one taken is no repeat', () => {
  const counts = countForwards([req('a', 'k1', 503), req('a', 'k1', 'hang'), req('a', 'k1')], new Map());
  expect(counts).toEqual({ forwards: 1, repeated: 0, resentSameKey: 0 });
});
