import type { RequestHandler, Response } from 'express';
import { decodeUtf8Strict } from '../../platform/http/input-boundary';

/**
 * Graph echoes each subscription's `clientState` in every notification: it is a shared secret
 * (stored encrypted on the mailbox), so the inbound request log keeps notifications with it
 * redacted. The original bytes stay available to the route for the constant-time check.
 */
export const CLIENT_STATE_REDACTED = '[redacted]';

const ORIGINAL_BODY = 'graphOriginalBody';
// On the latin1 view every byte is one character: replacing a match leaves all other bytes as sent.
const CLIENT_STATE_MEMBER = /("clientState"\s*:\s*)("(?:[^"\\]|\\.)*"|null)/g;

function redactDeep(value: unknown): boolean {
  let changed = false;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      stack.push(...v);
      continue;
    }
    const o = v as Record<string, unknown>;
    if (typeof o['clientState'] === 'string' && o['clientState'] !== CLIENT_STATE_REDACTED) {
      o['clientState'] = CLIENT_STATE_REDACTED;
      changed = true;
    }
    stack.push(...Object.values(o));
  }
  return changed;
}

/** A notification body with every `clientState` value replaced by `[redacted]`. */
export function redactClientState(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(CLIENT_STATE_MEMBER, `$1"${CLIENT_STATE_REDACTED}"`);
  const out = Buffer.from(text, 'latin1');
  // A key spelled with escapes (`"client\u0053tate"`) is caught on the parsed document. Only
  // `\u` can spell a letter of the key, so a body without one needs no second parse.
  if (!text.includes('\\u')) return out;
  // Only a strictly valid UTF-8 JSON body is re-serialized; anything else keeps its bytes.
  const text8 = decodeUtf8Strict(out);
  if (!text8.ok) return out;
  try {
    const parsed: unknown = JSON.parse(text8.value);
    if (redactDeep(parsed)) return Buffer.from(JSON.stringify(parsed), 'utf8');
  } catch {
    // Not JSON: the textual redaction is all there is to do.
  }
  return out;
}

/** Middleware: what later code logs is the redacted body; the route reads `originalBody(res)`. */
export const redactClientStateForLog: RequestHandler = (req, res, next) => {
  // Idempotent: mounted for the whole /hooks/graph path and by the router itself.
  if (Buffer.isBuffer(req.body) && !Buffer.isBuffer(res.locals[ORIGINAL_BODY])) {
    res.locals[ORIGINAL_BODY] = req.body;
    req.body = redactClientState(req.body);
  }
  next();
};

/** The notification body exactly as received (before redaction). */
export function originalBody(res: Response, fallback: unknown): Buffer {
  const original: unknown = res.locals[ORIGINAL_BODY];
  if (Buffer.isBuffer(original)) return original;
  return Buffer.isBuffer(fallback) ? fallback : Buffer.alloc(0);
}
