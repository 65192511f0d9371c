import { generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';

/** An RS256 signing key and the JWK the emulator publishes at its jwks_uri. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JsonWebKey & { kid: string; use: 'sig'; alg: 'RS256' };
}

export type JwtClaims = Record<string, unknown>;

export type JwtVerification = { ok: true; claims: JwtClaims } | { ok: false; reason: 'malformed' | 'signature' };

/** Creates a fresh RSA key; tokens from an earlier emulator instance therefore fail signature checks. */
export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  return { kid, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}

/** Encodes bytes or text as unpadded base64url. */
export function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

/** Signs `claims` as a compact RS256 JWT. */
export function signJwt(key: SigningKey, claims: JwtClaims): string {
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: key.kid }));
  const payload = base64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** Checks the signature of a compact JWT and returns its claims; expiry is the caller's concern. */
export function verifyJwt(key: SigningKey, token: string): JwtVerification {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [header, payload, signature] = parts as [string, string, string];
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed' };
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    key.publicKey,
    Buffer.from(signature, 'base64url'),
  );
  return valid ? { ok: true, claims: claims as JwtClaims } : { ok: false, reason: 'signature' };
}
