/**
 * The subset of QuickBooks' SQL-like query language the emulator runs: `select *|count(*)|fields
 * from Entity where … and … orderby … startposition n maxresults n`, with QuickBooks' parser
 * errors. Query literals are mostly quoted strings, so comparisons coerce by field type.
 */
import { isRecord } from '../values';
import { parseError, validationError, type QboFaultError } from './errors';
import { ENTITIES, entityMap, type RealmData } from './ledger';
import type { QuickBooksEntityName } from './resources';

type Literal = string | number | boolean;

export interface QueryCondition {
  field: string;
  op: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'LIKE' | 'IN';
  values: Literal[];
}

/** A parsed `select … from …` statement of the QuickBooks query language (the subset the emulator runs). */
export interface ParsedQuery {
  entity: QuickBooksEntityName;
  count: boolean;
  fields: string[] | '*';
  where: QueryCondition[];
  orderBy: { field: string; desc: boolean }[];
  startPosition: number;
  maxResults: number;
}

interface Token {
  kind: 'word' | 'string' | 'number' | 'symbol';
  text: string;
  at: number;
}

const QUERYABLE: Record<QuickBooksEntityName, string[]> = {
  Invoice: [
    'Id',
    'SyncToken',
    'DocNumber',
    'TxnDate',
    'DueDate',
    'TotalAmt',
    'Balance',
    'CustomerRef',
    'EmailStatus',
    'MetaData.CreateTime',
    'MetaData.LastUpdatedTime',
  ],
  Customer: [
    'Id',
    'SyncToken',
    'DisplayName',
    'GivenName',
    'FamilyName',
    'CompanyName',
    'Balance',
    'Active',
    'MetaData.CreateTime',
    'MetaData.LastUpdatedTime',
  ],
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        const c = text[j];
        if (c === undefined) throw parseError(`unterminated string starting at column ${i + 1}`);
        if (c === '\\' && text[j + 1] === "'") {
          value += "'";
          j += 2;
        } else if (c === "'") {
          j += 1;
          break;
        } else {
          value += c;
          j += 1;
        }
      }
      tokens.push({ kind: 'string', text: value, at: i });
      i = j;
    } else if (/[0-9]/.test(ch)) {
      const match = /^\d+(\.\d+)?/.exec(text.slice(i));
      tokens.push({ kind: 'number', text: match?.[0] ?? ch, at: i });
      i += match?.[0].length ?? 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
      tokens.push({ kind: 'word', text: match?.[0] ?? ch, at: i });
      i += match?.[0].length ?? 1;
    } else {
      const two = text.slice(i, i + 2);
      const symbol = ['<=', '>=', '!='].includes(two) ? two : ch;
      if (!['*', ',', '(', ')', '=', '<', '>', '<=', '>=', '!='].includes(symbol)) {
        throw parseError(`Encountered " "${ch}" " at line 1, column ${i + 1}.`);
      }
      tokens.push({ kind: 'symbol', text: symbol, at: i });
      i += symbol.length;
    }
  }
  return tokens;
}

/** Parses a QuickBooks query; throws a QuickBooks ValidationFault (as an error) when it is malformed. */
export function parseQuery(text: string): ParsedQuery {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (word: string): boolean => peek()?.kind === 'word' && peek()?.text.toUpperCase() === word;
  const unexpected = (expected: string): QboFaultError => {
    const t = peek();
    return parseError(
      t
        ? `Encountered " "${t.text}" " at line 1, column ${t.at + 1}. Was expecting: ${expected}`
        : `Unexpected end of query. Was expecting: ${expected}`,
    );
  };
  const expectWord = (word: string): void => {
    if (!isWord(word)) throw unexpected(word);
    pos += 1;
  };
  const expectSymbol = (symbol: string): void => {
    if (peek()?.text !== symbol || peek()?.kind !== 'symbol') throw unexpected(`"${symbol}"`);
    pos += 1;
  };
  const identifier = (): string => {
    const t = peek();
    if (t?.kind !== 'word') throw unexpected('<IDENTIFIER>');
    pos += 1;
    return t.text;
  };
  const literal = (): Literal => {
    const t = peek();
    pos += 1;
    if (t?.kind === 'string') return t.text;
    if (t?.kind === 'number') return Number(t.text);
    if (t?.kind === 'word' && /^(true|false)$/i.test(t.text)) return t.text.toLowerCase() === 'true';
    pos -= 1;
    throw unexpected('<STRING>');
  };
  const integer = (): number => {
    const t = peek();
    if (t?.kind !== 'number' || !/^\d+$/.test(t.text)) throw unexpected('<INTEGER>');
    pos += 1;
    return Number(t.text);
  };

  expectWord('SELECT');
  let count = false;
  let fields: string[] | '*';
  if (peek()?.text === '*') {
    pos += 1;
    fields = '*';
  } else if (isWord('COUNT')) {
    pos += 1;
    expectSymbol('(');
    expectSymbol('*');
    expectSymbol(')');
    count = true;
    fields = '*';
  } else {
    const list = [identifier()];
    while (peek()?.text === ',') {
      pos += 1;
      list.push(identifier());
    }
    fields = list;
  }
  expectWord('FROM');
  const entityWord = identifier();
  const entity = ENTITIES.find((e) => e.toLowerCase() === entityWord.toLowerCase());
  if (!entity) throw validationError(`Entity ${entityWord} is not supported`);
  const resolveField = (name: string): string => {
    const found = QUERYABLE[entity].find((f) => f.toLowerCase() === name.toLowerCase());
    if (!found) throw validationError(`property '${name}' is not queryable`);
    return found;
  };
  if (fields !== '*') fields = fields.map(resolveField);

  const where: QueryCondition[] = [];
  if (isWord('WHERE')) {
    pos += 1;
    do {
      if (where.length > 0) pos += 1;
      const field = resolveField(identifier());
      const t = peek();
      if (isWord('IN')) {
        pos += 1;
        expectSymbol('(');
        const values = [literal()];
        while (peek()?.text === ',') {
          pos += 1;
          values.push(literal());
        }
        expectSymbol(')');
        where.push({ field, op: 'IN', values });
      } else if (isWord('LIKE')) {
        pos += 1;
        where.push({ field, op: 'LIKE', values: [literal()] });
      } else if (t?.kind === 'symbol' && ['=', '!=', '<', '>', '<=', '>='].includes(t.text)) {
        pos += 1;
        where.push({ field, op: t.text as QueryCondition['op'], values: [literal()] });
      } else {
        throw unexpected('"=", "<", ">", "IN", "LIKE"');
      }
    } while (isWord('AND'));
  }

  const orderBy: ParsedQuery['orderBy'] = [];
  if (isWord('ORDERBY') || isWord('ORDER')) {
    if (isWord('ORDER')) {
      pos += 1;
      expectWord('BY');
    } else pos += 1;
    do {
      if (orderBy.length > 0) pos += 1;
      const field = resolveField(identifier());
      let desc = false;
      if (isWord('DESC') || isWord('ASC')) {
        desc = isWord('DESC');
        pos += 1;
      }
      orderBy.push({ field, desc });
    } while (peek()?.text === ',');
  }
  let startPosition = 1;
  let maxResults = 100;
  if (isWord('STARTPOSITION')) {
    pos += 1;
    startPosition = Math.max(1, integer());
  }
  if (isWord('MAXRESULTS')) {
    pos += 1;
    maxResults = Math.min(1000, Math.max(1, integer()));
  }
  if (pos < tokens.length) throw unexpected('<EOF>');
  return { entity, count, fields, where, orderBy, startPosition, maxResults };
}

/** Runs a query against a realm, answering as `QueryResponse` does. */
export function runQuery(data: RealmData, text: string): object {
  const parsed = parseQuery(text);
  const matches = [...entityMap(data, parsed.entity).values()]
    .map((s) => s.value)
    .filter((row) => parsed.where.every((cond) => matchesCondition(row, cond)));
  sortRows(matches, parsed.orderBy);
  if (parsed.count) return { totalCount: matches.length };
  const page = matches.slice(parsed.startPosition - 1, parsed.startPosition - 1 + parsed.maxResults);
  if (page.length === 0) return {};
  return {
    [parsed.entity]: page.map((row) => project(row, parsed.fields)),
    startPosition: parsed.startPosition,
    maxResults: page.length,
  };
}

function fieldValue(row: object, field: string): unknown {
  let value: unknown = row;
  for (const part of field.split('.')) value = isRecord(value) ? value[part] : undefined;
  // References compare by their id, as in `CustomerRef = '58'`.
  return isRecord(value) && 'value' in value ? value['value'] : value;
}

const NUMERIC_FIELDS = new Set(['Id', 'SyncToken', 'TotalAmt', 'Balance']);

// Query literals are mostly quoted strings, so each side is coerced by the field's type.
function comparable(field: string, value: unknown): number | string | boolean | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
  if (/Time$|Date$/.test(field)) {
    const ms = Date.parse(String(value));
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (NUMERIC_FIELDS.has(field)) return Number(value);
  if (field === 'Active') return value === true || value === 'true';
  return String(value);
}

function matchesCondition(row: object, cond: QueryCondition): boolean {
  const actual = comparable(cond.field, fieldValue(row, cond.field));
  if (actual === undefined) return false;
  const values = cond.values.map((v) => comparable(cond.field, v));
  const first = values[0];
  switch (cond.op) {
    case 'IN':
      return values.some((v) => v === actual);
    case 'LIKE': {
      const pattern = String(cond.values[0] ?? '')
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*');
      return new RegExp(`^${pattern}$`, 'i').test(String(actual));
    }
    case '=':
      return actual === first;
    case '!=':
      return actual !== first;
    default:
      if (first === undefined) return false;
      if (cond.op === '<') return actual < first;
      if (cond.op === '>') return actual > first;
      if (cond.op === '<=') return actual <= first;
      return actual >= first;
  }
}

function sortRows(rows: object[], orderBy: ParsedQuery['orderBy']): void {
  const keys = orderBy.length > 0 ? orderBy : [{ field: 'Id', desc: false }];
  rows.sort((a, b) => {
    for (const { field, desc } of keys) {
      const x = comparable(field, fieldValue(a, field)) ?? '';
      const y = comparable(field, fieldValue(b, field)) ?? '';
      if (x < y) return desc ? 1 : -1;
      if (x > y) return desc ? -1 : 1;
    }
    return 0;
  });
}

function project(row: object, fields: string[] | '*'): object {
  if (fields === '*') return structuredClone(row);
  const source = row as Record<string, unknown>;
  const out: Record<string, unknown> = {
    Id: source['Id'],
    SyncToken: source['SyncToken'],
    domain: 'QBO',
    sparse: true,
  };
  for (const field of fields) {
    const top = field.split('.')[0] ?? field;
    out[top] = structuredClone(source[top]);
  }
  return out;
}
