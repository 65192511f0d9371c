import { createHash, randomBytes } from 'node:crypto';
import { CryptoProvider } from '@azure/msal-node';
import {
  getMailbox,
  insertAuthRequest,
  recordMailboxError,
  takeAuthRequest,
  updateMailbox,
  type MailboxRow,
} from './db/mailboxes';
import type { Db } from '../platform/db/pool';
import { graphScopes } from './graph/authority';
import { classifyGraphError } from './graph/errors';
import { createMsalApp, delegatedPermissions, mailboxAad } from './graph/msal';
import { redirectUri } from './settings';
import type { Logger } from '../platform/logger';
import type { SecretBox } from '../platform/security/secret-box';
import { BROWSER_MISMATCH_MESSAGES, browserHash } from '../platform/security/browser-binding';
import { upsertScanSchedule, type MailboxControlDeps } from './mailbox-starter';

/**
 * A scan mailbox's delegated sign-in ("authorize application"): authorization code with PKCE
 * and a single-use `state`. Starting stores the verifier under the state's hash; the identity
 * platform's return redeems the code, which persists the encrypted token cache, records the
 * connected account and starts the mailbox's scan schedule.
 */

export interface SignInDeps extends MailboxControlDeps {
  db: Db;
  secrets: SecretBox;
  logger: Logger;
}

const AUTH_REQUEST_TTL_MS = 15 * 60_000;
const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

const scopesFor = (resolved: ReturnType<typeof createMsalApp>['resolved'], mailbox: MailboxRow) => [
  ...graphScopes(resolved, delegatedPermissions(!!mailbox.shared_mailbox)),
  'offline_access',
];

/**
 * Stores a pending sign-in, bound to the starting browser's consent nonce (its cookie), and
 * returns the consent URL to open in that browser.
 */
export async function startSignIn(
  deps: Omit<SignInDeps, 'logger'>,
  mailbox: MailboxRow,
  browserNonce: string,
): Promise<{ authorizeUrl: string; expiresAt: Date }> {
  const { db, secrets, settings } = deps;
  const { app, resolved } = createMsalApp({ db, secrets, http: settings.outbound }, mailbox, { delegated: true });
  const pkce = await new CryptoProvider().generatePkceCodes();
  const state = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + AUTH_REQUEST_TTL_MS);
  await insertAuthRequest(db, {
    stateHash: hashState(state),
    mailboxId: mailbox.id,
    verifierEnc: secrets.encrypt(pkce.verifier, mailboxAad.pkce(mailbox.id)),
    expiresAt,
    browserHash: browserHash(browserNonce),
  });
  const authorizeUrl = await app.getAuthCodeUrl({
    scopes: scopesFor(resolved, mailbox),
    redirectUri: redirectUri(settings),
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    state,
    prompt: 'select_account',
  });
  return { authorizeUrl, expiresAt };
}

/** What the identity platform sent back to the redirect URI. */
export interface SignInReturn {
  state: string;
  /** The consent nonce the returning browser's cookie carries. */
  browserNonce: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  errorDescription?: string | undefined;
}

/** How a sign-in ended; a failure's message is for the person at the browser (and kept on the mailbox). */
export type SignInOutcome = { ok: true; account: string } | { ok: false; status: 400 | 403 | 404; message: string };

const failed = (message: string, status: 400 | 403 | 404 = 400): SignInOutcome => ({ ok: false, status, message });

/** Consumes the pending sign-in named by `state` and, when the platform agreed, connects the mailbox. */
export async function finishSignIn(deps: SignInDeps, back: SignInReturn): Promise<SignInOutcome> {
  const { db, secrets, settings } = deps;
  // From a browser that did not start it, nothing is consumed or recorded on the mailbox.
  if (!back.browserNonce) return failed(BROWSER_MISMATCH_MESSAGES.cookie_missing, 403);
  const pending = await takeAuthRequest(db, hashState(back.state), browserHash(back.browserNonce));
  if (pending === 'other_browser') return failed(BROWSER_MISMATCH_MESSAGES.other_browser, 403);
  if (!pending || pending.expired) {
    return failed('This sign-in is unknown, already used or expired. Start again from the mailbox.');
  }
  const mailbox = await getMailbox(db, pending.mailbox_id);
  if (!mailbox) return failed('The mailbox no longer exists.', 404);
  if (back.error) {
    const message = `Sign-in was not completed (${back.error}): ${back.errorDescription ?? ''}`.trim();
    await recordMailboxError(db, mailbox.id, message);
    return failed(message);
  }
  if (!back.code) return failed('The response has no authorization code.');

  // Start from an empty cache so the new account replaces whoever was connected before.
  await updateMailbox(db, mailbox.id, { token_cache_enc: null });
  const { app, resolved } = createMsalApp({ db, secrets, http: settings.outbound }, mailbox, { delegated: true });
  let account;
  try {
    const result = await app.acquireTokenByCode({
      code: back.code,
      scopes: scopesFor(resolved, mailbox),
      redirectUri: redirectUri(settings),
      codeVerifier: secrets.decrypt(pending.verifier_enc, mailboxAad.pkce(mailbox.id)),
    });
    account = result.account;
  } catch (err) {
    const problem = classifyGraphError(err);
    const message = `The identity platform refused the sign-in (${problem.kind}): ${problem.message}`;
    await recordMailboxError(db, mailbox.id, message);
    deps.logger.warn({ mailboxId: mailbox.id, kind: problem.kind }, 'delegated sign-in failed');
    return failed(message);
  }
  if (!account) return failed('The identity platform returned no account.');
  const row = await updateMailbox(db, mailbox.id, {
    connected_account: account.username.toLowerCase(),
    connected_home_account_id: account.homeAccountId,
    connected_at: new Date(),
    // Mail from before the sign-in is history, not new work.
    process_since: new Date(),
    delta_link: null,
    last_error: null,
  });
  await upsertScanSchedule(deps, row!);
  deps.logger.info({ mailboxId: mailbox.id }, 'mailbox connected by delegated sign-in');
  return { ok: true, account: account.username };
}
