import { randomBytes } from 'node:crypto';
import type { AppRegistration, DirectoryUser } from './directory';
import { base64url, createSigningKey, signJwt, verifyJwt } from './jwt';
import type { SigningKey } from './jwt';

/** Audiences Graph accepts: its URI and its well-known application id. */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** Who a Graph request acts as, derived from a validated access token. */
export type Principal =
  | { kind: 'app'; tenantId: string; appId: string; permissions: Set<string> }
  | { kind: 'user'; tenantId: string; appId: string; userId: string; permissions: Set<string> };

export type AccessTokenCheck = { ok: true; principal: Principal } | { ok: false; message: string };

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

/** Signs access and ID tokens and remembers which access tokens are still live. */
export class TokenService {
  readonly signingKey: SigningKey = createSigningKey();
  private readonly live = new Map<string, number>();

  constructor(
    private readonly loginBaseUrl: () => string,
    private readonly ttlSeconds: number,
  ) {}

  issueAppToken(app: AppRegistration): IssuedToken {
    return this.issueAccessToken({
      tid: app.tenantId,
      appid: app.clientId,
      app_displayname: app.displayName,
      oid: app.servicePrincipalId,
      sub: app.servicePrincipalId,
      idtyp: 'app',
      roles: [...app.permissions],
    });
  }

  issueUserToken(app: AppRegistration, user: DirectoryUser, scopes: string[]): IssuedToken {
    return this.issueAccessToken({
      tid: user.tenantId,
      appid: app.clientId,
      app_displayname: app.displayName,
      oid: user.id,
      sub: base64url(`${user.id}:${app.clientId}`),
      idtyp: 'user',
      upn: user.userPrincipalName,
      unique_name: user.userPrincipalName,
      name: user.displayName,
      scp: scopes.join(' '),
    });
  }

  /** An OpenID Connect ID token; `nonce` appears only when the authorize request carried one, as MSAL checks that. */
  issueIdToken(app: AppRegistration, user: DirectoryUser, nonce: string | undefined): string {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(this.signingKey, {
      aud: app.clientId,
      iss: `${this.loginBaseUrl()}/${user.tenantId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: user.displayName,
      oid: user.id,
      preferred_username: user.userPrincipalName,
      sub: base64url(`${user.id}:${app.clientId}`),
      tid: user.tenantId,
      ver: '2.0',
      ...(nonce ? { nonce } : {}),
    });
  }

  verifyAccessToken(token: string): AccessTokenCheck {
    const verified = verifyJwt(this.signingKey, token);
    if (!verified.ok) {
      return {
        ok: false,
        message:
          verified.reason === 'malformed'
            ? 'IDX14100: JWT is not well formed, there are no dots (.).'
            : 'Access token validation failure. Invalid signature.',
      };
    }
    const claims = verified.claims;
    if (claims['aud'] !== GRAPH_RESOURCE && claims['aud'] !== GRAPH_APP_ID) {
      return { ok: false, message: 'Access token validation failure. Invalid audience.' };
    }
    const uti = typeof claims['uti'] === 'string' ? claims['uti'] : '';
    const expiresAt = this.live.get(uti);
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
    }
    const tenantId = String(claims['tid']);
    const appId = String(claims['appid']);
    if (claims['idtyp'] === 'app') {
      const roles = Array.isArray(claims['roles']) ? claims['roles'].map(String) : [];
      return { ok: true, principal: { kind: 'app', tenantId, appId, permissions: new Set(roles) } };
    }
    const scopes = typeof claims['scp'] === 'string' ? claims['scp'].split(' ').filter(Boolean) : [];
    return {
      ok: true,
      principal: { kind: 'user', tenantId, appId, userId: String(claims['oid']), permissions: new Set(scopes) },
    };
  }

  /** Makes every access token issued so far fail Graph's lifetime check, as if their clock had run out. */
  expireAll(): void {
    this.live.clear();
  }

  private issueAccessToken(claims: Record<string, unknown>): IssuedToken {
    const now = Math.floor(Date.now() / 1000);
    const uti = randomBytes(16).toString('base64url');
    const token = signJwt(this.signingKey, {
      aud: GRAPH_RESOURCE,
      iss: `https://sts.windows.net/${String(claims['tid'])}/`,
      iat: now,
      nbf: now,
      exp: now + this.ttlSeconds,
      ver: '1.0',
      uti,
      ...claims,
    });
    this.pruneExpired();
    this.live.set(uti, Date.now() + this.ttlSeconds * 1000);
    return { token, expiresIn: this.ttlSeconds };
  }

  private pruneExpired(): void {
    if (this.live.size < 1000) return;
    const now = Date.now();
    for (const [uti, expiresAt] of this.live) if (expiresAt <= now) this.live.delete(uti);
  }
}
