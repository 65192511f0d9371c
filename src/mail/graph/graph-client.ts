import { Client } from '@microsoft/microsoft-graph-client';
import type { MailboxRow } from '../db/mailboxes';
import { resolveAuthority } from './authority';
import type { KeyedLimiter } from './limiter';
import { appOnlyTokens, delegatedTokens, type MsalDeps } from './msal';
import { graphMiddleware, type OutboundHttp } from './safe-transport';

export interface GraphDeps extends MsalDeps {
  /** Caps concurrent Graph requests per mailbox in this process. */
  limiter: KeyedLimiter;
}

/** A mailbox's way into Graph: the path its mail lives under and a guarded way to call. */
export interface MailboxGraph {
  mailbox: MailboxRow;
  /** `/users/<address>` (application permissions, or a shared mailbox) or `/me` (the signed-in user). */
  userPath: string;
  /** Whether the mail being read is a shared mailbox reached through delegation. */
  shared: boolean;
  /** Runs `fn` under the mailbox's concurrency cap, retrying once with a fresh token after a 401. */
  call<T>(fn: (client: Client) => Promise<T>): Promise<T>;
}

const statusOf = (err: unknown) => (err as { statusCode?: unknown }).statusCode;

/** The Graph path for a mailbox's mail. */
export function mailboxUserPath(mailbox: MailboxRow): string {
  if (mailbox.method === 'webhooks') return `/users/${mailbox.email_address ?? ''}`;
  return mailbox.shared_mailbox ? `/users/${mailbox.shared_mailbox}` : '/me';
}

// Tokens are fetched outside the Graph client: its auth middleware would wrap an MSAL error
// (a rejected secret, a revoked grant) into a bare GraphError and lose what went wrong.
// The SDK's own fetch and redirect handling are replaced by the outbound guard (safe-transport.ts).
function graphClient(token: string, mailbox: MailboxRow, http: OutboundHttp): Client {
  const resolved = resolveAuthority(mailbox.authority, mailbox.tenant_id);
  return Client.initWithMiddleware({
    middleware: graphMiddleware({ getAccessToken: () => Promise.resolve(token) }, http),
    baseUrl: resolved.graphBaseUrl,
    customHosts: resolved.customHosts,
    defaultVersion: 'v1.0',
  });
}

/** Connects to Graph as the mailbox's method requires: client credentials or the delegated sign-in. */
export function connectMailbox(deps: GraphDeps, mailbox: MailboxRow): MailboxGraph {
  const tokens = mailbox.method === 'scan' ? delegatedTokens(deps, mailbox) : appOnlyTokens(deps, mailbox);
  const attempt = async <T>(fn: (client: Client) => Promise<T>, fresh: boolean) =>
    fn(graphClient(await tokens.token(fresh), mailbox, deps.http));
  return {
    mailbox,
    userPath: mailboxUserPath(mailbox),
    shared: mailbox.method === 'scan' && !!mailbox.shared_mailbox,
    call: (fn) =>
      deps.limiter.run(mailbox.id, async () => {
        try {
          return await attempt(fn, false);
        } catch (err) {
          // MSAL renews a token only shortly before its expiry; Graph may have stopped accepting it
          // earlier (revocation, clock skew). One retry with a token fetched past every cache.
          if (statusOf(err) !== 401) throw err;
          return attempt(fn, true);
        }
      }),
  };
}
