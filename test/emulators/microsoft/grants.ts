import { createHash, randomBytes } from 'node:crypto';

/** A code handed out by /authorize and redeemable once at /token. */
export interface AuthorizationCode {
  clientId: string;
  tenantId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  nonce: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
  expiresAt: number;
  redeemed: boolean;
}

/** What a refresh token stands for: a user's consent to an app for a set of scopes. */
export interface RefreshGrant {
  clientId: string;
  tenantId: string;
  userId: string;
  scopes: string[];
  revoked: boolean;
  /** Set when the token was exchanged and the emulator rejects reuse. */
  used: boolean;
}

const CODE_TTL_MS = 10 * 60 * 1000;

/** Authorization codes and refresh tokens issued for delegated sign-ins. */
export class GrantStore {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();

  issueCode(grant: Omit<AuthorizationCode, 'expiresAt' | 'redeemed'>): string {
    this.pruneCodes();
    // Real codes are long opaque strings starting with a version marker.
    const code = `1.A${randomBytes(48).toString('base64url')}`;
    this.codes.set(code, { ...grant, expiresAt: Date.now() + CODE_TTL_MS, redeemed: false });
    return code;
  }

  findCode(code: string): AuthorizationCode | undefined {
    return this.codes.get(code);
  }

  issueRefreshToken(grant: Omit<RefreshGrant, 'revoked' | 'used'>): string {
    const token = `1.A${randomBytes(64).toString('base64url')}`;
    this.refreshTokens.set(token, { ...grant, revoked: false, used: false });
    return token;
  }

  findRefreshToken(token: string): RefreshGrant | undefined {
    return this.refreshTokens.get(token);
  }

  /** Revokes refresh tokens (all, or one user's), as a password reset or admin revocation would. */
  revokeRefreshTokens(userId?: string): void {
    for (const grant of this.refreshTokens.values()) {
      if (userId === undefined || grant.userId === userId) grant.revoked = true;
    }
  }

  private pruneCodes(): void {
    if (this.codes.size < 1000) return;
    const now = Date.now();
    for (const [code, grant] of this.codes) if (grant.expiresAt <= now) this.codes.delete(code);
  }
}

/** PKCE check (RFC 7636) for `plain` and `S256`. */
export function pkceMatches(challenge: string, method: string | undefined, verifier: string): boolean {
  if (method === undefined || method.toLowerCase() === 'plain') return challenge === verifier;
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}
