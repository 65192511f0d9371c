import express, { type Request, type RequestHandler, type Response } from 'express';
import { HttpError } from './error-envelope';

/**
 * The one input boundary: what every request body, key and value must be before any route,
 * database or workflow sees it. Bytes are decoded strictly (invalid UTF-8 is refused, never
 * replaced with U+FFFD, so what is stored is what was signed); NUL and unpaired surrogates are
 * refused in every string and key (PostgreSQL cannot store them); nesting and arrays are bounded
 * (deep structures overflow the stack of recursive code downstream); dates stay in a range
 * PostgreSQL and JavaScript agree on. Failures are values, turned into 400s by the callers.
 */
export interface InputLimits {
  /** Deepest nesting of objects and arrays in a JSON body (INPUT_MAX_JSON_DEPTH). */
  maxDepth: number;
  /** Most items in any one JSON array (INPUT_MAX_ARRAY_LENGTH). */
  maxArrayLength: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = { maxDepth: 32, maxArrayLength: 10_000 };

export function inputLimits(config: { INPUT_MAX_JSON_DEPTH: number; INPUT_MAX_ARRAY_LENGTH: number }): InputLimits {
  return { maxDepth: config.INPUT_MAX_JSON_DEPTH, maxArrayLength: config.INPUT_MAX_ARRAY_LENGTH };
}

export type InputProblemCode =
  | 'invalid_utf8'
  | 'malformed_json'
  | 'nul_character'
  | 'invalid_unicode'
  | 'too_deep'
  | 'array_too_long'
  | 'date_out_of_range';

export interface InputProblem {
  code: InputProblemCode;
  message: string;
  /** Where in the document, as a dotted path (`data.items.3.name`). */
  path?: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: InputProblem };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes to text, refusing anything that is not valid UTF-8. */
export function decodeUtf8Strict(raw: Buffer | Uint8Array): Decoded<string> {
  try {
    return { ok: true, value: utf8.decode(raw) };
  } catch {
    return { ok: false, problem: { code: 'invalid_utf8', message: 'The body is not valid UTF-8' } };
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** NUL or an unpaired surrogate (from a `\ud800` escape): neither survives PostgreSQL. */
export function stringProblem(s: string, path: string, what: 'value' | 'key' = 'value'): InputProblem | null {
  if (s.includes('\u0000')) {
    return { code: 'nul_character', message: `A ${what} at ${path || '(root)'} contains a NUL character`, path };
  }
  if (LONE_SURROGATE.test(s)) {
    return {
      code: 'invalid_unicode',
      message: `A ${what} at ${path || '(root)'} contains an unpaired surrogate`,
      path,
    };
  }
  return null;
}

type Walked = { v: unknown; depth: number; parent: Walked | null; key: string | number };

/** A node's dotted path, built only when a problem is reported (most bodies have none). */
function pathOf(node: Walked | null): string {
  const keys: Array<string | number> = [];
  for (let n = node; n && n.parent; n = n.parent) keys.push(n.key);
  return keys.reverse().join('.');
}

/**
 * Walks a parsed JSON value without recursion (so a hostile depth cannot overflow this
 * walk either) and returns the first problem: NUL, bad Unicode, depth or array length.
 * `strings: false` skips the per-string checks, for a value parsed from text that cannot
 * hold such a string (see `decodeJsonStrict`).
 */
export function checkJsonValue(value: unknown, limits: InputLimits, strings = true): InputProblem | null {
  const stack: Walked[] = [{ v: value, depth: 0, parent: null, key: '' }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const { v, depth } = node;
    if (typeof v === 'string') {
      const p = strings ? stringProblem(v, pathOf(node)) : null;
      if (p) return p;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > limits.maxDepth) {
      const path = pathOf(node);
      return {
        code: 'too_deep',
        message: `JSON nested deeper than ${limits.maxDepth} levels at ${path || '(root)'}`,
        path,
      };
    }
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength) {
        const path = pathOf(node);
        return {
          code: 'array_too_long',
          message: `An array at ${path || '(root)'} has ${v.length} items; at most ${limits.maxArrayLength} are accepted`,
          path,
        };
      }
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, parent: node, key: i });
      continue;
    }
    for (const k of Object.keys(v)) {
      const child: Walked = { v: (v as Record<string, unknown>)[k], depth: depth + 1, parent: node, key: k };
      const p = strings ? stringProblem(k, pathOf(child), 'key') : null;
      if (p) return p;
      stack.push(child);
    }
  }
  return null;
}

/**
 * Strict UTF-8, then JSON, then the structural checks: the only way a JSON body is read.
 * Strict UTF-8 cannot carry a lone surrogate and JSON cannot carry a raw NUL in a string, so
 * only a `\u` escape can put either in the value: text without one skips the string checks.
 */
export function decodeJsonStrict(raw: Buffer, limits: InputLimits): Decoded<unknown> {
  const text = decodeUtf8Strict(raw);
  if (!text.ok) return text;
  let value: unknown;
  try {
    value = JSON.parse(text.value);
  } catch {
    return { ok: false, problem: { code: 'malformed_json', message: 'The body is not valid JSON' } };
  }
  const problem = checkJsonValue(value, limits, text.value.includes('\\u'));
  return problem ? { ok: false, problem } : { ok: true, value };
}

/** `decodeURIComponent` as a value: malformed percent-encoding is a client error, not a throw. */
export function decodeComponentStrict(s: string): Decoded<string> {
  try {
    const value = decodeURIComponent(s);
    const p = stringProblem(value, '');
    return p ? { ok: false, problem: p } : { ok: true, value };
  } catch {
    return { ok: false, problem: { code: 'invalid_utf8', message: 'Malformed percent-encoding' } };
  }
}

// PostgreSQL's timestamptz reaches back to 4713 BC and JavaScript's Date to ±275,760 years; a
// business date outside these years is an error, not something to store.
const MIN_DATE_MS = Date.UTC(1900, 0, 1);
const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** True for a valid Date between the years 1900 and 9999. */
export function isDateInRange(d: Date): boolean {
  const t = d.getTime();
  return Number.isFinite(t) && t >= MIN_DATE_MS && t <= MAX_DATE_MS;
}

/** A date-time string that parses and falls in range. */
export function parseDateInRange(s: string): Decoded<Date> {
  const d = new Date(s);
  if (!isDateInRange(d)) {
    return {
      ok: false,
      problem: {
        code: 'date_out_of_range',
        message: `"${s.slice(0, 40)}" is not a date-time between the years 1900 and 9999`,
      },
    };
  }
  return { ok: true, value: d };
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2})(:?)(\d{2}))$/;

/**
 * A date-time with an explicit zone, checked field by field (JavaScript's Date alone reads "1"
 * as 2001 and February 30 as March 2), in the years `parseDateInRange` accepts. RFC 3339 by
 * default; `offsetColon: 'optional'` also takes ISO 8601's `-0700`, which Intuit's legacy
 * notifications send.
 */
export function isIsoDateTime(s: string, { offsetColon = 'required' }: { offsetColon?: 'required' | 'optional' } = {}) {
  const m = ISO_DATE_TIME.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetHours, colon, offsetMinutes] = m.slice(1);
  const n = (v: string | undefined) => Number(v ?? 0);
  const daysInMonth = new Date(Date.UTC(n(year), n(month), 0)).getUTCDate();
  if (n(month) < 1 || n(month) > 12 || n(day) < 1 || n(day) > daysInMonth) return false;
  if (n(hour) > 23 || n(minute) > 59 || n(second) > 59) return false;
  if (offsetHours !== undefined && (n(offsetHours) > 23 || n(offsetMinutes) > 59)) return false;
  if (offsetHours !== undefined && colon === '' && offsetColon === 'required') return false;
  return parseDateInRange(s).ok;
}

/** The envelope code for a problem: `malformed_json` for unparseable JSON, else `invalid_input`. */
export const inputErrorCode = (problem: InputProblem) =>
  problem.code === 'malformed_json' ? 'malformed_json' : 'invalid_input';

/** The 400 every caller answers for a problem. */
export function problemToHttpError(problem: InputProblem): HttpError {
  return new HttpError(400, inputErrorCode(problem), problem.message, {
    reason: problem.code,
    ...(problem.path ? { path: problem.path } : {}),
  });
}

const isJsonType = (type: string | undefined) => !!type && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type);

/**
 * `express.json` for the admin API, through the boundary: strict UTF-8, no NUL, bounded depth
 * and arrays. Non-JSON bodies are left unread, as express.json leaves them.
 */
export function jsonBody(options: { limitBytes: number; limits: InputLimits }): RequestHandler {
  const raw = express.raw({ type: (req) => isJsonType(req.headers['content-type']), limit: options.limitBytes });
  const tooLarge = declaredTooLarge(options.limitBytes);
  return (req, res, next) => {
    tooLarge(req, res, (early?: unknown) => {
      if (early) return next(early);
      raw(req, res, (err?: unknown) => {
        if (err) return next(err);
        // Not JSON (a form, say): whatever another parser made of it stays.
        if (!Buffer.isBuffer(req.body)) return next();
        decode(req, next);
      });
    });
  };

  function decode(req: Request, next: (err?: unknown) => void): void {
    const body = req.body as Buffer;
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(req.headers['content-type'] ?? '')?.[2]?.toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      return next(new HttpError(415, 'unsupported_charset', `Only UTF-8 JSON is accepted, not ${charset}`));
    }
    if (body.length === 0) {
      req.body = {};
      return next();
    }
    const decoded = decodeJsonStrict(body, options.limits);
    if (!decoded.ok) return next(problemToHttpError(decoded.problem));
    req.body = decoded.value;
    next();
  }
}

/**
 * Refuses a body whose declared Content-Length is over the limit before reading a byte of it.
 * (body-parser would first wait for the whole body to arrive — for a false Content-Length, that
 * is forever.) The error is body-parser's own `entity.too.large`, answered by the usual handlers,
 * which close the connection.
 */
export function declaredTooLarge(limitBytes: number): RequestHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > limitBytes) {
      return next(
        Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, expose: true }),
      );
    }
    next();
  };
}

/** How a refused ingress request is answered (and logged) by the caller. */
export type IngressRefusal = (
  req: Request,
  res: Response,
  status: number,
  code: string,
  message: string,
  details?: unknown,
) => Promise<void>;

const CHECKED_JSON = 'boundaryCheckedJson';

/**
 * The boundary for raw ingress bodies (signed webhooks, Graph notifications), run after the raw
 * body is read and before any route: invalid UTF-8 is refused, and a body that is JSON must pass
 * the structural checks. A body that is not JSON at all is left to the route, which checks the
 * signature first and then answers `malformed_json`. `bodyOf` gives the bytes the route will
 * read (Graph's are kept aside from the redacted copy the log gets); what they decoded to is kept
 * for the route (`checkedByBoundary`), which would otherwise parse and walk them again.
 */
export function ingressBoundary(
  limits: InputLimits,
  refuse: IngressRefusal,
  bodyOf: (req: Request, res: Response) => unknown = (req) => req.body,
): RequestHandler {
  return (req, res, next) => {
    const raw = bodyOf(req, res);
    if (!Buffer.isBuffer(raw) || raw.length === 0) return next();
    const decoded = decodeJsonStrict(raw, limits);
    if (!decoded.ok) {
      // Not JSON at all is the route's to answer, after its signature check.
      if (decoded.problem.code === 'malformed_json') return next();
      const { problem } = decoded;
      const details = { reason: problem.code, ...(problem.path ? { path: problem.path } : {}) };
      return void refuse(req, res, 400, 'invalid_input', problem.message, details);
    }
    res.locals[CHECKED_JSON] = { raw, value: decoded.value };
    next();
  };
}

/** What the boundary decoded `raw` to, when `raw` is the very buffer it checked. */
export function checkedByBoundary(res: Response, raw: Buffer): { value: unknown } | undefined {
  const checked = res.locals[CHECKED_JSON] as { raw: Buffer; value: unknown } | undefined;
  return checked?.raw === raw ? { value: checked.value } : undefined;
}
