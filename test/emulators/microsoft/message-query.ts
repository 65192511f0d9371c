import type { StoredMessage } from './mail-store';
import { fail, graphError, ok } from './replies';
import type { Outcome } from './replies';

/** The subset of OData list options the emulator understands for messages. */
export interface ListQuery {
  filter: (message: StoredMessage) => boolean;
  compare: (a: StoredMessage, b: StoredMessage) => number;
  top: number;
  skip: number;
}

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

/** Parses `$filter`, `$orderby`, `$top` and `$skip` as Graph applies them to message lists. */
export function parseListQuery(query: URLSearchParams): Outcome<ListQuery> {
  const filter = parseFilter(query.get('$filter'));
  if (!filter.ok) return filter;
  const top = Number(query.get('$top') ?? '10');
  const skip = Number(query.get('$skip') ?? '0');
  if (!Number.isInteger(top) || top < 1 || top > 1000 || !Number.isInteger(skip) || skip < 0) {
    return fail(graphError(400, 'BadRequest', 'Invalid $top or $skip value.'));
  }
  const orderBy = (query.get('$orderby') ?? 'receivedDateTime desc').trim().split(/\s+/);
  if (orderBy[0] !== 'receivedDateTime' || (orderBy[1] !== undefined && !/^(asc|desc)$/i.test(orderBy[1]))) {
    return fail(
      graphError(400, 'BadRequest', `The $orderby expression '${query.get('$orderby') ?? ''}' is not supported.`),
    );
  }
  const direction = orderBy[1]?.toLowerCase() === 'asc' ? 1 : -1;
  return ok({
    filter: filter.value,
    compare: (a, b) => direction * (Date.parse(a.receivedDateTime) - Date.parse(b.receivedDateTime)),
    top,
    skip,
  });
}

/** Supports `isRead eq true|false`, `receivedDateTime ge <date>` and `eq` on id-like strings, joined by `and`. */
function parseFilter(raw: string | null): Outcome<(message: StoredMessage) => boolean> {
  if (raw === null || raw.trim() === '') return ok(() => true);
  const predicates: Array<(message: StoredMessage) => boolean> = [];
  for (const clause of raw.split(/\s+and\s+/i)) {
    const match = /^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$/i.exec(clause);
    const [, property, rawOperator, value] = match ?? [];
    const operator = rawOperator?.toLowerCase() ?? '';
    const compare = COMPARISONS[operator];
    if (!property || !value || !compare) return invalidFilter(raw);
    if (property === 'isRead' && /^(true|false)$/.test(value) && (operator === 'eq' || operator === 'ne')) {
      const wanted = value === 'true';
      predicates.push((message) => (operator === 'eq') === (message.isRead === wanted));
    } else if (property === 'receivedDateTime' && !Number.isNaN(Date.parse(value))) {
      const instant = Date.parse(value);
      predicates.push((message) => compare(Date.parse(message.receivedDateTime), instant));
    } else if (
      (property === 'internetMessageId' || property === 'conversationId' || property === 'subject') &&
      /^'.*'$/.test(value) &&
      (operator === 'eq' || operator === 'ne')
    ) {
      const wanted = value.slice(1, -1).replace(/''/g, "'");
      predicates.push((message) => (operator === 'eq') === (message[property] === wanted));
    } else {
      return invalidFilter(raw);
    }
  }
  return ok((message) => predicates.every((predicate) => predicate(message)));
}

function invalidFilter(raw: string): Outcome<never> {
  return fail(graphError(400, 'BadRequest', `Invalid filter clause: '${raw}' is not supported by the emulator.`));
}
