import {
  checkCondition,
  conditionHolds,
  conditionOperatorCatalogue,
  conditionsMatch,
  CONDITION_OPERATORS,
  type Condition,
} from './conditions';

const fields = {
  status: { id: 3, display: 'In Progress' },
  summary: 'Printer on fire',
  total: 120.5,
  dueDate: '2026-03-01T00:00:00Z',
  tags: [
    { id: 1, display: 'Hardware' },
    { id: 2, display: 'Urgent' },
  ],
  details: '',
};

const holds = (c: Condition, previous?: Record<string, never> | Record<string, unknown>) =>
  conditionHolds(c, fields, previous as never);

test.each<[Condition, boolean]>([
  [{ field: 'status', operator: 'equals', value: 'in progress' }, true],
  [{ field: 'status', operator: 'equals', value: 3 }, true],
  [{ field: 'status', operator: 'equals', value: 'Closed' }, false],
  [{ field: 'status', operator: 'not_equals', value: 'Closed' }, true],
  [{ field: 'status', operator: 'in', value: ['New', 'In Progress'] }, true],
  [{ field: 'status', operator: 'not_in', value: ['New', 'In Progress'] }, false],
  [{ field: 'summary', operator: 'contains', value: 'FIRE' }, true],
  [{ field: 'summary', operator: 'not_contains', value: 'water' }, true],
  [{ field: 'tags', operator: 'contains', value: 'urgent' }, true],
  [{ field: 'tags', operator: 'contains', value: 'Urg' }, false],
  [{ field: 'total', operator: 'greater_than', value: 100 }, true],
  [{ field: 'total', operator: 'less_than', value: 100 }, false],
  [{ field: 'dueDate', operator: 'less_than', value: '2026-04-01T00:00:00Z' }, true],
  [{ field: 'details', operator: 'is_blank' }, true],
  [{ field: 'missing', operator: 'is_blank' }, true],
  [{ field: 'summary', operator: 'is_not_blank' }, true],
])('%j → %s', (c, expected) => {
  expect(holds(c)).toBe(expected);
});

test('changed and changed_to look at the previous values', () => {
  const prev = { status: { id: 1, display: 'New' } };
  expect(holds({ field: 'status', operator: 'changed' }, prev)).toBe(true);
  expect(holds({ field: 'status', operator: 'changed' }, { status: { id: 3, display: 'In Progress' } })).toBe(false);
  expect(holds({ field: 'status', operator: 'changed' }, undefined)).toBe(false);
  expect(holds({ field: 'summary', operator: 'changed' }, prev)).toBe(false);
  expect(holds({ field: 'status', operator: 'changed_to', value: 'In Progress' }, prev)).toBe(true);
  expect(holds({ field: 'status', operator: 'changed_to', value: 'Closed' }, prev)).toBe(false);
});

test('all versus any, and no conditions', () => {
  const a: Condition = { field: 'summary', operator: 'contains', value: 'fire' };
  const b: Condition = { field: 'total', operator: 'less_than', value: 10 };
  expect(conditionsMatch([a, b], 'all', fields)).toBe(false);
  expect(conditionsMatch([a, b], 'any', fields)).toBe(true);
  expect(conditionsMatch([], 'all', fields)).toBe(true);
});

test('values must fit their operators', () => {
  expect(checkCondition({ field: 'x', operator: 'equals' }, 'c')?.rule).toBe('condition_value_required');
  expect(checkCondition({ field: 'x', operator: 'is_blank', value: 1 }, 'c')?.rule).toBe('condition_value_not_allowed');
  expect(checkCondition({ field: 'x', operator: 'in', value: 'a' }, 'c')?.rule).toBe('condition_value_must_be_list');
  expect(checkCondition({ field: 'x', operator: 'in', value: [] }, 'c')?.rule).toBe('condition_value_must_be_list');
  expect(checkCondition({ field: 'x', operator: 'equals', value: ['a'] }, 'c')?.rule).toBe(
    'condition_value_must_be_single',
  );
  expect(checkCondition({ field: 'x', operator: 'changed_to', value: 'a' }, 'c')).toBeUndefined();
});

test('the operator catalogue the console builds its editor from says what value each operator takes, as validation does', () => {
  const catalogue = conditionOperatorCatalogue();
  expect(catalogue.map((o) => o.operator)).toEqual([...CONDITION_OPERATORS]);
  const samples: Record<string, Condition['value']> = { none: undefined, single: 'P1', list: ['P1', 'P2'] };
  for (const { operator, value } of catalogue) {
    for (const [shape, sample] of Object.entries(samples)) {
      const problem = checkCondition({ field: 'priority', operator, value: sample }, 'c');
      expect({ operator, shape, accepted: problem === undefined }).toEqual({
        operator,
        shape,
        accepted: shape === value,
      });
    }
  }
});
