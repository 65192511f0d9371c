import { canonicalJson, isSelectValue, type Json } from './fields';

/** Operators a webhook event's conditions may use, like a notification profile's. */
export const CONDITION_OPERATORS = [
  'equals',
  'not_equals',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'greater_than',
  'less_than',
  'is_blank',
  'is_not_blank',
  'changed',
  'changed_to',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export type Scalar = string | number | boolean;

export interface Condition {
  field: string;
  operator: ConditionOperator;
  value?: Scalar | Scalar[] | undefined;
}

export type MatchMode = 'all' | 'any';

const NO_VALUE = new Set<ConditionOperator>(['is_blank', 'is_not_blank', 'changed']);
const LIST_VALUE = new Set<ConditionOperator>(['in', 'not_in']);

/** The value each operator takes, in order: served with the event catalogue so the console's editor restates none of it. */
export const conditionOperatorCatalogue = () =>
  CONDITION_OPERATORS.map((operator) => ({
    operator,
    value: NO_VALUE.has(operator)
      ? ('none' as const)
      : LIST_VALUE.has(operator)
        ? ('list' as const)
        : ('single' as const),
  }));

export interface RuleViolation {
  rule: string;
  message: string;
}

/** Checks that a condition's value has the shape its operator needs. */
export function checkCondition(c: Condition, where: string): RuleViolation | undefined {
  const has = c.value !== undefined;
  if (NO_VALUE.has(c.operator)) {
    return has
      ? { rule: 'condition_value_not_allowed', message: `${where}: the ${c.operator} operator takes no value` }
      : undefined;
  }
  if (!has) return { rule: 'condition_value_required', message: `${where}: the ${c.operator} operator needs a value` };
  if (LIST_VALUE.has(c.operator) !== Array.isArray(c.value)) {
    return LIST_VALUE.has(c.operator)
      ? { rule: 'condition_value_must_be_list', message: `${where}: the ${c.operator} operator needs a list of values` }
      : {
          rule: 'condition_value_must_be_single',
          message: `${where}: the ${c.operator} operator needs a single value`,
        };
  }
  if (Array.isArray(c.value) && c.value.length === 0) {
    return { rule: 'condition_value_must_be_list', message: `${where}: the ${c.operator} list must not be empty` };
  }
  return undefined;
}

// Selects compare by id or by display text, so a condition can name either ("status equals 3" or "equals Closed").
const candidates = (v: Json | undefined): string[] => {
  if (v === undefined || v === null) return [];
  if (isSelectValue(v)) return [String(v.id).toLowerCase(), v.display.toLowerCase()];
  if (Array.isArray(v)) return v.flatMap(candidates);
  if (typeof v === 'object') return [canonicalJson(v)];
  return [String(v).toLowerCase()];
};

const equalsAny = (v: Json | undefined, wanted: Scalar[]) => {
  const have = candidates(v);
  return wanted.some((w) => have.includes(String(w).toLowerCase()));
};

const isBlank = (v: Json | undefined) =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

const asNumber = (v: Json | Scalar | undefined): number | undefined => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    if (!Number.isNaN(Number(v))) return Number(v);
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
};

const compare = (v: Json | undefined, wanted: Scalar | Scalar[] | undefined): number | undefined => {
  const a = asNumber(isSelectValue(v) ? v.id : v);
  const b = asNumber(Array.isArray(wanted) ? undefined : wanted);
  return a === undefined || b === undefined ? undefined : a - b;
};

const list = (v: Scalar | Scalar[] | undefined): Scalar[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Evaluates one condition against an object's fields and, for `changed`, its previous values. */
export function conditionHolds(
  c: Condition,
  fields: Record<string, Json>,
  previous: Record<string, Json> | undefined,
): boolean {
  const v = fields[c.field];
  const changed = () =>
    previous !== undefined && c.field in previous && canonicalJson(previous[c.field]) !== canonicalJson(v ?? null);
  switch (c.operator) {
    case 'equals':
    case 'in':
      return equalsAny(v, list(c.value));
    case 'not_equals':
    case 'not_in':
      return !equalsAny(v, list(c.value));
    case 'contains':
    case 'not_contains': {
      const needle = String(c.value).toLowerCase();
      // Lists (multi-selects) contain an element; text contains a substring.
      const found = Array.isArray(v) ? equalsAny(v, [needle]) : candidates(v).some((s) => s.includes(needle));
      return c.operator === 'contains' ? found : !found;
    }
    case 'greater_than':
      return (compare(v, c.value) ?? 0) > 0;
    case 'less_than':
      return (compare(v, c.value) ?? 0) < 0;
    case 'is_blank':
      return isBlank(v);
    case 'is_not_blank':
      return !isBlank(v);
    case 'changed':
      return changed();
    case 'changed_to':
      return changed() && equalsAny(v, list(c.value));
  }
}

/** True when the conditions hold (all of them, or any one); no conditions always match. */
export function conditionsMatch(
  conditions: readonly Condition[],
  match: MatchMode,
  fields: Record<string, Json>,
  previous?: Record<string, Json>,
): boolean {
  if (conditions.length === 0) return true;
  const test = (c: Condition) => conditionHolds(c, fields, previous);
  return match === 'any' ? conditions.some(test) : conditions.every(test);
}
