/**
 * Turns whatever the Graph SDK or MSAL threw into one of a few problems the workflows act on:
 * throttling waits, auth problems notify people, missing things are handled, the rest retries.
 */

export type GraphProblem =
  | { kind: 'throttled'; retryAfterMs: number; message: string }
  | { kind: 'not_found'; code: string; message: string }
  | { kind: 'forbidden'; code: string; message: string }
  | { kind: 'credentials_rejected'; code: string; message: string }
  | { kind: 'reauthorization_required'; code: string; message: string }
  | { kind: 'sync_reset'; message: string }
  | { kind: 'bad_request'; code: string; message: string }
  | { kind: 'transient'; message: string };

/** Raised by our token sources when a mailbox cannot get a token at all (not connected, refused). */
export class MailboxAuthError extends Error {
  override name = 'MailboxAuthError';
  constructor(
    readonly kind: 'credentials_rejected' | 'reauthorization_required',
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// AADSTS codes meaning "the app's own credentials or identity are wrong": retrying will not help.
const CREDENTIAL_CODES = /AADSTS(7000215|7000222|700016|90002|7000218|700027)\b/;
const DEFAULT_RETRY_AFTER_MS = 10_000;

interface ErrorLike {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
  headers?: unknown;
  errorCode?: unknown;
  errorMessage?: unknown;
  subError?: unknown;
  name?: unknown;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

function retryAfterHeader(headers: unknown): string | null {
  const get = (headers as { get?: (n: string) => string | null } | undefined)?.get;
  return typeof get === 'function' ? get.call(headers, 'retry-after') : null;
}

function retryAfterMs(headers: unknown): number {
  const raw = retryAfterHeader(headers);
  if (!raw) return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, at - Date.now());
}

/** Classifies an error from the Graph client, MSAL or our token sources. */
export function classifyGraphError(err: unknown): GraphProblem {
  if (err instanceof MailboxAuthError) return { kind: err.kind, code: err.code, message: err.message };
  const e = (err ?? {}) as ErrorLike;
  const message = str(e.errorMessage) || str(e.message) || String(err);

  // A login or Graph URL refused by the outbound guard is a setting to fix: retrying will not help.
  if (
    str(e.errorCode) === 'blocked_destination' ||
    str(e.code) === 'BlockedDestinationError' ||
    str(e.name) === 'BlockedDestinationError'
  ) {
    return { kind: 'bad_request', code: 'blocked_destination', message };
  }

  // MSAL: ServerError / InteractionRequiredAuthError carry errorCode instead of an HTTP status.
  const msalCode = str(e.errorCode);
  if (msalCode) {
    if (msalCode === 'invalid_client' || msalCode === 'unauthorized_client' || CREDENTIAL_CODES.test(message)) {
      return { kind: 'credentials_rejected', code: msalCode, message };
    }
    if (
      ['invalid_grant', 'interaction_required', 'consent_required', 'login_required', 'no_tokens_found'].includes(
        msalCode,
      )
    ) {
      return { kind: 'reauthorization_required', code: msalCode, message };
    }
    if (msalCode === 'invalid_request' && /AADSTS90002/.test(message)) {
      return { kind: 'credentials_rejected', code: msalCode, message };
    }
    return { kind: 'transient', message: `${msalCode}: ${message}` };
  }

  const status = typeof e.statusCode === 'number' ? e.statusCode : -1;
  const code = str(e.code) || `HTTP${status}`;
  if (status === 429 || ((status === 503 || status === 504) && retryAfterHeader(e.headers) !== null)) {
    return { kind: 'throttled', retryAfterMs: retryAfterMs(e.headers), message };
  }
  if (status === 404) return { kind: 'not_found', code, message };
  if (status === 410) return { kind: 'sync_reset', message };
  if (status === 403) return { kind: 'forbidden', code, message };
  if (status === 401) return { kind: 'credentials_rejected', code, message };
  if (status >= 400 && status < 500) return { kind: 'bad_request', code, message };
  return { kind: 'transient', message: status > 0 ? `${code} (${status}): ${message}` : message };
}

/** The ceiling Graph reports when asked for too long a subscription ("can only be 10070 minutes in the future"). */
export function parseExpiryCeilingMinutes(message: string): number | null {
  const m = /can only be (\d+(?:\.\d+)?) minutes in the future/i.exec(message);
  if (!m?.[1]) return null;
  const minutes = Number(m[1]);
  return Number.isFinite(minutes) && minutes > 0 ? minutes : null;
}

export type MailAccess = 'read' | 'write' | 'send';

/** The permission a mailbox needs for `access`, named as the Azure portal shows it. */
export function requiredPermission(access: MailAccess, method: 'webhooks' | 'scan', shared: boolean): string {
  const base = access === 'send' ? 'Mail.Send' : 'Mail.ReadWrite';
  if (method === 'webhooks') return `${base} (application permission, with admin consent)`;
  return `${shared ? `${base}.Shared` : base} (delegated permission)`;
}

/** A sentence an administrator can act on, for a problem that stops a mailbox from working. */
export function explainProblem(
  problem: GraphProblem,
  ctx: { access: MailAccess; method: 'webhooks' | 'scan'; shared: boolean; mailbox: string },
): string {
  switch (problem.kind) {
    case 'forbidden':
      return `Microsoft Graph denied access to ${ctx.mailbox} (${problem.code}). The app registration needs ${requiredPermission(ctx.access, ctx.method, ctx.shared)}.`;
    case 'credentials_rejected':
      return `Microsoft rejected the app's credentials (${problem.code}): check the tenant id, client id and client secret (it may have expired). ${problem.message}`;
    case 'reauthorization_required':
      return `The delegated sign-in for ${ctx.mailbox} is no longer valid (${problem.code}): authorize the application again.`;
    case 'not_found':
      return `Microsoft Graph could not find ${ctx.mailbox} or the item (${problem.code}): ${problem.message}`;
    case 'throttled':
      return `Microsoft Graph is throttling requests for ${ctx.mailbox}; retry after ${Math.ceil(problem.retryAfterMs / 1000)} s.`;
    default:
      return problem.message;
  }
}
