import { createHash } from 'node:crypto';
import { ConfidentialClientApplication, LogLevel, type ICachePlugin, type TokenCacheContext } from '@azure/msal-node';
import { loadTokenCache, saveTokenCache, type MailboxRow } from '../db/mailboxes';
import type { Queryable } from '../../platform/db/pool';
import type { SecretBox } from '../../platform/security/secret-box';
import { appOnlyScope, graphScopes, resolveAuthority, type ResolvedAuthority } from './authority';
import { MailboxAuthError } from './errors';
import { msalNetworkClient, type OutboundHttp } from './safe-transport';

/** What a mailbox keeps encrypted in `secrets_enc`. */
export interface MailboxSecrets {
  clientSecret: string;
}

/** Associated data binding each ciphertext to its mailbox and purpose, so rows cannot be swapped. */
export const mailboxAad = {
  secrets: (id: string) => `mailbox:${id}`,
  tokenCache: (id: string) => `mailbox:${id}:token-cache`,
  clientState: (id: string) => `mailbox:${id}:client-state`,
  pkce: (id: string) => `mailbox:${id}:pkce`,
};

/** Delegated permissions a scan mailbox signs in with; `.Shared` variants reach a shared mailbox. */
export function delegatedPermissions(shared: boolean): string[] {
  return shared
    ? ['Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared']
    : ['Mail.ReadWrite', 'Mail.Send'];
}

/** MSAL token cache of one mailbox, persisted encrypted in PostgreSQL so any worker can refresh it. */
export class EncryptedMailboxCache implements ICachePlugin {
  constructor(
    private readonly db: Queryable,
    private readonly secrets: SecretBox,
    private readonly mailboxId: string,
  ) {}

  async beforeCacheAccess(ctx: TokenCacheContext): Promise<void> {
    const enc = await loadTokenCache(this.db, this.mailboxId);
    if (enc) ctx.tokenCache.deserialize(this.secrets.decrypt(enc, mailboxAad.tokenCache(this.mailboxId)));
  }

  async afterCacheAccess(ctx: TokenCacheContext): Promise<void> {
    if (!ctx.cacheHasChanged) return;
    const enc = this.secrets.encrypt(ctx.tokenCache.serialize(), mailboxAad.tokenCache(this.mailboxId));
    await saveTokenCache(this.db, this.mailboxId, enc);
  }
}

export interface MsalDeps {
  db: Queryable;
  secrets: SecretBox;
  /** Every MSAL call (discovery, token) goes through the outbound guard. */
  http: OutboundHttp;
}

/** Anything that yields a Graph bearer token; `fresh` bypasses every cache (after a 401). */
export interface TokenSource {
  token(fresh: boolean): Promise<string>;
}

// App-only apps keep their token in memory: one per mailbox and credential set, per process.
const appCache = new Map<string, ConfidentialClientApplication>();

const fingerprint = (m: MailboxRow) =>
  createHash('sha256')
    .update(`${m.tenant_id}\n${m.client_id}\n${m.secrets_enc}\n${JSON.stringify(m.authority)}`)
    .digest('hex')
    .slice(0, 16);

/** Builds the MSAL app for a mailbox; delegated apps get the encrypted per-mailbox cache. */
export function createMsalApp(
  deps: MsalDeps,
  mailbox: MailboxRow,
  options: { delegated: boolean },
): { app: ConfidentialClientApplication; resolved: ResolvedAuthority } {
  const resolved = resolveAuthority(mailbox.authority, mailbox.tenant_id);
  const key = `${mailbox.id}:${fingerprint(mailbox)}`;
  const cached = options.delegated ? undefined : appCache.get(key);
  if (cached) return { app: cached, resolved };
  const { clientSecret } = deps.secrets.decryptJson<MailboxSecrets>(
    mailbox.secrets_enc,
    mailboxAad.secrets(mailbox.id),
  );
  const app = new ConfidentialClientApplication({
    auth: {
      clientId: mailbox.client_id,
      clientSecret,
      authority: resolved.authority,
      knownAuthorities: resolved.knownAuthorities,
      ...(resolved.authorityMetadata ? { authorityMetadata: resolved.authorityMetadata } : {}),
    },
    ...(options.delegated
      ? { cache: { cachePlugin: new EncryptedMailboxCache(deps.db, deps.secrets, mailbox.id) } }
      : {}),
    system: {
      networkClient: msalNetworkClient(deps.http),
      loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined },
    },
  });
  if (!options.delegated) {
    for (const k of appCache.keys()) if (k.startsWith(`${mailbox.id}:`)) appCache.delete(k);
    appCache.set(key, app);
  }
  return { app, resolved };
}

/** Client-credentials tokens for a webhooks mailbox (application permissions). */
export function appOnlyTokens(deps: MsalDeps, mailbox: MailboxRow): TokenSource {
  const { app, resolved } = createMsalApp(deps, mailbox, { delegated: false });
  return {
    token: async (fresh) => {
      const result = await app.acquireTokenByClientCredential({ scopes: [appOnlyScope(resolved)], skipCache: fresh });
      if (!result?.accessToken)
        throw new MailboxAuthError('credentials_rejected', 'no_token', 'MSAL returned no token');
      return result.accessToken;
    },
  };
}

/** Delegated tokens for a scan mailbox, refreshed silently from the persisted cache. */
export function delegatedTokens(deps: MsalDeps, mailbox: MailboxRow): TokenSource {
  const { app, resolved } = createMsalApp(deps, mailbox, { delegated: true });
  const scopes = graphScopes(resolved, delegatedPermissions(!!mailbox.shared_mailbox));
  return {
    token: async (fresh) => {
      const homeId = mailbox.connected_home_account_id;
      const account = homeId ? await app.getTokenCache().getAccountByHomeId(homeId) : null;
      if (!account) {
        throw new MailboxAuthError(
          'reauthorization_required',
          'not_connected',
          'The mailbox is not signed in: authorize the application first',
        );
      }
      const result = await app.acquireTokenSilent({ account, scopes, forceRefresh: fresh });
      return result.accessToken;
    },
  };
}
