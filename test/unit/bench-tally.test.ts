import { allArrived, idsIn, tally } from '../../bench/tally';

test('counts lost, doubled and unexpected ids at the receiver', () => {
  expect(tally(['a', 'b', 'c'], ['a', 'a', 'b', 'x', 'a'])).toEqual({
    expected: 3,
    arrived: 2,
    lost: 1,
    doubled: 2,
    unexpected: 1,
  });
  expect(tally(['a', 'b'], ['b', 'a'])).toEqual({ expected: 2, arrived: 2, lost: 0, doubled: 0, unexpected: 0 });
});

test('a batch counts each item it carries; a body without the key carries none', () => {
  expect(idsIn([{ objectId: 'a' }, { objectId: 7 }], 'objectId')).toEqual(['a', '7']);
  expect(idsIn({ objectId: 'b' }, 'objectId')).toEqual(['b']);
  expect(idsIn(undefined, 'objectId')).toEqual([]);
});

test('allArrived waits for every expected id, whatever else arrives', () => {
  expect(allArrived(new Set(['a', 'b']), ['a', 'a', 'x'])).toBe(false);
  expect(allArrived(new Set(['a', 'b']), ['b', 'x', 'a'])).toBe(true);
});
