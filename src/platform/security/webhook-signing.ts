import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing: `whsec_` secrets, `v1,<base64 HMAC-SHA256>` over
 * `${id}.${timestamp}.${body}` keyed with the secret's decoded bytes.
 */
export const SECRET_PREFIX = 'whsec_';

/** A signing secret and, once rotated out, when it stops being sent. */
export interface SigningKey {
  secret: string;
  createdAt: string;
  expiresAt: string | null;
}

export function generateSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

const keyBytes = (secret: string) => Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');

/** `whsec_` followed by base64 of 24–64 bytes, as the spec requires. */
export function isValidSigningSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const n = keyBytes(secret).length;
  return n >= 24 && n <= 64;
}

/** One `v1,<signature>` for one secret. */
export function sign(secret: string, msgId: string, timestampSeconds: number, body: string | Buffer): string {
  // The body goes in as bytes: a received one is checked exactly as it arrived, whatever its encoding.
  const mac = createHmac('sha256', keyBytes(secret))
    .update(`${msgId}.${timestampSeconds}.`)
    .update(body)
    .digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one signature per secret still in use, space-separated. */
export function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): string {
  return secrets.map((s) => sign(s, msgId, timestampSeconds, body)).join(' ');
}

/** Secrets to sign with now: the current one first, then any still inside their grace period. */
export function activeSecrets(keys: readonly SigningKey[], now: Date): string[] {
  return keys.filter((k) => k.expiresAt === null || Date.parse(k.expiresAt) > now.getTime()).map((k) => k.secret);
}

/** Puts `next` in front; keys in use so far stay valid for `graceSeconds` more (never longer than they had). */
export function rotateKeys(keys: readonly SigningKey[], next: string, graceSeconds: number, now: Date): SigningKey[] {
  const fresh: SigningKey = { secret: next, createdAt: now.toISOString(), expiresAt: null };
  if (graceSeconds <= 0) return [fresh];
  const until = now.getTime() + graceSeconds * 1000;
  const kept = keys
    .filter((k) => k.expiresAt === null || Date.parse(k.expiresAt) > now.getTime())
    .map((k) => ({
      ...k,
      expiresAt: new Date(Math.min(k.expiresAt ? Date.parse(k.expiresAt) : until, until)).toISOString(),
    }));
  return [fresh, ...kept];
}
