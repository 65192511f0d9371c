import type { Request } from 'express';
import type { Directory, DirectoryUser } from './directory';
import type { DeltaSessions } from './graph-delta';
import type { Mailbox, MailStore, StoredMessage } from './mail-store';
import type { Notifier } from './notifier';
import { fail, graphError, ok } from './replies';
import type { HttpReply, Outcome } from './replies';
import type { Counters } from './stats';
import type { SubscriptionStore } from './subscriptions';
import type { FaultInjector, MailboxThrottle } from './throttle';
import type { Principal, TokenService } from './tokens';

/** Mail sent through `sendMail` or `reply`, as the emulator recorded it. */
export interface SentMailRecord {
  id: string;
  kind: 'sendMail' | 'reply';
  fromUserId: string;
  from: string;
  /** The Graph `message` object as posted (for replies: the reply the emulator composed). */
  message: Record<string, unknown>;
  saveToSentItems: boolean;
  sentAt: string;
  /** For replies: the message replied to. */
  inReplyTo?: { messageId: string; internetMessageId: string };
}

/** Everything the Graph routes share. */
export interface GraphDeps {
  baseUrl(): string;
  directory: Directory;
  store: MailStore;
  subscriptions: SubscriptionStore;
  delta: DeltaSessions;
  notifier: Notifier;
  tokens: TokenService;
  throttle: MailboxThrottle;
  faults: FaultInjector;
  counters: Counters;
  sentMail: SentMailRecord[];
  subscriptionMaxMinutes: number;
  graphLatencyMs: number;
}

/** The parts of a `Prefer` header Graph honours here. */
export interface Preferences {
  immutableIds: boolean;
  maxPageSize: number | undefined;
}

export interface GraphContext {
  deps: GraphDeps;
  req: Request;
  principal: Principal;
  query: URLSearchParams;
  prefer: Preferences;
}

/** A request addressed to one mailbox (`/users/{id}/...` or `/me/...`). */
export interface MailboxContext extends GraphContext {
  user: DirectoryUser;
  mailbox: Mailbox;
  /** `users/{segment}` or `me`, reused when building nextLink/deltaLink URLs. */
  prefix: string;
}

export type GraphHandler<C extends GraphContext> = (
  ctx: C,
  params: Record<string, string>,
) => HttpReply | Promise<HttpReply>;

/** `profile` (GET /users/{id}) only needs a token for the right tenant. */
export type MailAccess = 'profile' | 'read' | 'write' | 'send';

/** A Graph endpoint. Mailbox patterns start after `users/{id}` or `me`; `:name` segments are parameters. */
export type GraphRoute =
  | { method: string; pattern: string; mailbox: true; access: MailAccess; handle: GraphHandler<MailboxContext> }
  | { method: string; pattern: string; mailbox: false; handle: GraphHandler<GraphContext> };

const ACCESS_PERMISSIONS: Record<Exclude<MailAccess, 'profile'>, string[]> = {
  read: ['Mail.Read', 'Mail.ReadWrite', 'Mail.ReadBasic', 'Mail.ReadBasic.All'],
  write: ['Mail.ReadWrite'],
  send: ['Mail.Send'],
};

/** True when the token's roles/scopes allow `access` to `user`'s mailbox. */
export function canAccess(principal: Principal, user: DirectoryUser, access: MailAccess): boolean {
  if (access === 'profile') return true;
  // Delegated access to someone else's mailbox needs the `.Shared` flavour of the permission.
  const shared = principal.kind === 'user' && principal.userId !== user.id;
  return ACCESS_PERMISSIONS[access].some((permission) =>
    principal.permissions.has(shared ? `${permission}.Shared` : permission),
  );
}

export function accessDenied(): HttpReply {
  return graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
}

/** Resolves `me` or a user id/mail to a mailbox the caller's tenant owns. */
export function resolveMailbox(ctx: GraphContext, segment: string): Outcome<{ user: DirectoryUser; mailbox: Mailbox }> {
  const { principal, deps } = ctx;
  let user: DirectoryUser | undefined;
  if (segment.toLowerCase() === 'me') {
    if (principal.kind !== 'user') {
      return fail(graphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.'));
    }
    user = deps.directory.findUser(principal.userId, principal.tenantId);
  } else {
    // Users of other tenants are invisible: Graph reports them exactly like users that do not exist.
    user = deps.directory.findUser(segment, principal.tenantId);
  }
  if (!user) return fail(graphError(404, 'ErrorInvalidUser', `The requested user '${segment}' is invalid.`));
  if (!user.hasMailbox) {
    return fail(
      graphError(
        404,
        'MailboxNotEnabledForRESTAPI',
        'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
      ),
    );
  }
  return ok({ user, mailbox: deps.store.mailbox(user) });
}

/** Parses `Prefer`, e.g. `IdType="ImmutableId", odata.maxpagesize=50`. */
export function parsePrefer(header: string | undefined): Preferences {
  const preferences: Preferences = { immutableIds: false, maxPageSize: undefined };
  for (const part of (header ?? '').split(',')) {
    const [rawName, rawValue] = part.split('=', 2).map((piece) => piece.trim());
    const value = (rawValue ?? '').replace(/^"|"$/g, '');
    if (rawName?.toLowerCase() === 'idtype' && value.toLowerCase() === 'immutableid') preferences.immutableIds = true;
    if (rawName?.toLowerCase() === 'odata.maxpagesize' && /^\d+$/.test(value)) {
      preferences.maxPageSize = Math.max(1, Number(value));
    }
  }
  return preferences;
}

/** Response headers acknowledging the preferences a reply applied. */
export function preferenceApplied(prefer: Preferences, pageSizeApplied: boolean): Record<string, string> {
  const applied = [
    ...(prefer.immutableIds ? ['IdType="ImmutableId"'] : []),
    ...(pageSizeApplied && prefer.maxPageSize !== undefined ? [`odata.maxpagesize=${prefer.maxPageSize}`] : []),
  ];
  return applied.length > 0 ? { 'Preference-Applied': applied.join(', ') } : {};
}

/** Looks up `params.id` in the mailbox (and in `params.folder` when the route names one). */
export function findMessage(ctx: MailboxContext, params: Record<string, string>): Outcome<StoredMessage> {
  const message = ctx.deps.store.find(ctx.mailbox, params['id'] ?? '');
  const folder = params['folder'] === undefined ? undefined : ctx.deps.store.folder(ctx.mailbox, params['folder']);
  if (!message || (params['folder'] !== undefined && message.folderId !== folder?.id)) {
    return fail(graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'));
  }
  return ok(message);
}
