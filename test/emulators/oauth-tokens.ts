/**
 * Token bookkeeping shared by the provider emulators: authorization codes, access tokens and
 * rotating refresh tokens, each carrying what the user consented to (`G`: Xero's tenants,
 * QuickBooks' realm). What differs between providers (lifetimes, token looks, the grace a
 * rotated-out refresh token keeps) is configuration.
 */
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { bearerToken } from './http-helpers';
import { pkceMatches, type PkceChallenge } from './oauth-consent';
import type { Clock } from './rate-limiter';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** Shown on the consent page (and by Xero as `ProviderName`). */
  name?: string;
}

export interface AccessGrant<G> {
  clientId: string;
  grantType: string;
  expiresAtMs: number;
  consent: G;
}

export interface RefreshGrant<G> {
  clientId: string;
  expiresAtMs: number;
  /** When a newer token replaced this one; it then lives on for the reuse grace only. */
  supersededAtMs: number | undefined;
  consent: G;
}

export interface AuthCode<G> {
  clientId: string;
  redirectUri: string | undefined;
  expiresAtMs: number;
  pkce: PkceChallenge | undefined;
  consent: G;
}

export interface TokenPolicy {
  accessTtlMs: number;
  refreshTtlMs: number;
  authCodeTtlMs: number;
  /** How long a rotated-out refresh token keeps working. */
  reuseGraceMs: number;
  /**
   * Whether the last millisecond of the grace still counts. Xero honours it; QuickBooks, whose
   * default grace is 0, must refuse a replay even within the millisecond of the rotation.
   */
  graceIncludesEnd: boolean;
  /** How each kind of token starts, as the provider's tokens look (e.g. QuickBooks' `AB11…`). */
  prefixes?: { access?: string; refresh?: string; code?: string };
}

export type BearerCheck<G> =
  | { ok: true; grant: AccessGrant<G> }
  | { ok: false; reason: 'missing' | 'unknown' }
  | { ok: false; reason: 'expired'; token: string; grant: AccessGrant<G> };

/** The codes and tokens one emulator has issued, and the rules for redeeming them. */
export class OAuthTokens<G extends object> {
  readonly access = new Map<string, AccessGrant<G>>();
  readonly refresh = new Map<string, RefreshGrant<G>>();
  private readonly codes = new Map<string, AuthCode<G>>();

  constructor(
    private readonly policy: TokenPolicy,
    private readonly now: Clock,
  ) {}

  get accessTtlSeconds(): number {
    return Math.round(this.policy.accessTtlMs / 1000);
  }

  get refreshTtlSeconds(): number {
    return Math.round(this.policy.refreshTtlMs / 1000);
  }

  issueCode(clientId: string, consent: G, redirectUri: string | undefined, pkce?: PkceChallenge): string {
    const code = this.token('code');
    this.codes.set(code, {
      clientId,
      redirectUri,
      expiresAtMs: this.now() + this.policy.authCodeTtlMs,
      pkce,
      consent,
    });
    return code;
  }

  /** Spends a code (even on failure, as a real server does) and returns it if it is valid here. */
  redeemCode(
    clientId: string,
    code: string,
    redirectUri: string | undefined,
    verifier: string | undefined,
  ): AuthCode<G> | undefined {
    const entry = this.codes.get(code);
    this.codes.delete(code);
    if (!entry || entry.clientId !== clientId || entry.expiresAtMs < this.now()) return undefined;
    if (entry.redirectUri !== undefined && entry.redirectUri !== redirectUri) return undefined;
    // PKCE: a code issued with a challenge is only redeemed with the matching verifier.
    return pkceMatches(entry.pkce, verifier) ? entry : undefined;
  }

  issueAccess(clientId: string, consent: G, grantType: string): string {
    const token = this.token('access');
    this.access.set(token, {
      clientId,
      grantType,
      expiresAtMs: this.now() + this.policy.accessTtlMs,
      consent: { ...consent },
    });
    return token;
  }

  issueRefresh(clientId: string, consent: G): string {
    const token = this.token('refresh');
    this.refresh.set(token, {
      clientId,
      expiresAtMs: this.now() + this.policy.refreshTtlMs,
      supersededAtMs: undefined,
      consent: { ...consent },
    });
    return token;
  }

  /**
   * Accepts a refresh token for rotation and marks it superseded. The presented token stays
   * usable for the grace period so that a caller that lost the response (or a racing worker)
   * can still recover.
   */
  rotate(clientId: string, presented: string): RefreshGrant<G> | undefined {
    const entry = this.refresh.get(presented);
    const at = this.now();
    if (!entry || entry.clientId !== clientId || entry.expiresAtMs < at) return undefined;
    if (entry.supersededAtMs !== undefined) {
      const graceEnd = entry.supersededAtMs + this.policy.reuseGraceMs;
      if (this.policy.graceIncludesEnd ? graceEnd < at : graceEnd <= at) return undefined;
    }
    entry.supersededAtMs ??= at;
    return entry;
  }

  /** Reads the bearer token of an API call. */
  check(req: Request): BearerCheck<G> {
    const token = bearerToken(req);
    if (token === undefined) return { ok: false, reason: 'missing' };
    const grant = this.access.get(token);
    if (!grant) return { ok: false, reason: 'unknown' };
    if (grant.expiresAtMs <= this.now()) return { ok: false, reason: 'expired', token, grant };
    return { ok: true, grant };
  }

  /** The grant behind a token of either kind. */
  find(token: string): AccessGrant<G> | RefreshGrant<G> | undefined {
    return this.refresh.get(token) ?? this.access.get(token);
  }

  /** Drops every token for which `covered` holds. */
  revokeWhere(covered: (grant: AccessGrant<G> | RefreshGrant<G>) => boolean): void {
    for (const [t, g] of this.refresh) if (covered(g)) this.refresh.delete(t);
    for (const [t, g] of this.access) if (covered(g)) this.access.delete(t);
  }

  expireAllAccess(): void {
    const at = this.now();
    for (const grant of this.access.values()) grant.expiresAtMs = Math.min(grant.expiresAtMs, at);
  }

  private token(kind: 'access' | 'refresh' | 'code'): string {
    return `${this.policy.prefixes?.[kind] ?? ''}${randomBytes(32).toString('base64url')}`;
  }
}
