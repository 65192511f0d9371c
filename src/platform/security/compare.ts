import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time string equality; hashing first makes unequal lengths leak nothing either. */
export function safeEqual(a: string, b: string): boolean {
  return safeEqualTo(b)(a);
}

/** `safeEqual` against one expected value, hashed once for many candidates. */
export function safeEqualTo(expected: string): (candidate: string) => boolean {
  const want = sha256(expected);
  return (candidate) => timingSafeEqual(sha256(candidate), want) && candidate.length === expected.length;
}
