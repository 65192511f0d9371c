import { createHmac } from 'node:crypto';

/** What hostile bodies and headers are made of: malformed text, deep nesting, made-up credentials. */

/** A well-formed id nothing has. */
export const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';
/** A JSON body. */
export const J = (v: unknown) => Buffer.from(JSON.stringify(v));
export const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
export const INVALID_UTF8 = [0xff, 0xfe];
/** `{"a":{"a":…1}}`, `n` deep. */
export const deep = (n: number, leaf: unknown = 1): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
};
/** `[[[…]]]`, `n` deep, as text: too deep to build as a value. */
export const deepText = (n: number) => '['.repeat(n) + ']'.repeat(n);
export const hmac = (key: string, body: Buffer | string) => createHmac('sha256', key).update(body).digest('base64');
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const basic = (raw: string | Buffer) => `Basic ${Buffer.from(raw).toString('base64')}`;
export const form = { 'content-type': 'application/x-www-form-urlencoded' };
