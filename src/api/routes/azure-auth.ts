import { createHash } from 'node:crypto';
import express, { type Response, type Router } from 'express';
import { getMailbox, recordMailboxError, takeAuthRequest, updateMailbox } from '../../db/mailboxes';
import type { Db } from '../../db/pool';
import { graphScopes } from '../../integrations/microsoft-graph/authority';
import { classifyGraphError } from '../../integrations/microsoft-graph/errors';
import { createMsalApp, delegatedPermissions, mailboxAad } from '../../integrations/microsoft-graph/msal';
import { redirectUri } from '../../integrations/microsoft-graph/settings';
import type { Logger } from '../../logger';
import type { SecretBox } from '../../security/secret-box';
import { upsertScanSchedule, type MailboxControlDeps } from '../../starters/mailbox';

export interface AzureAuthDeps extends MailboxControlDeps {
  db: Db;
  secrets: SecretBox;
  logger: Logger;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: Response, status: number, title: string, text: string): void {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .set('Content-Security-Policy', "default-src 'none'")
    .type('text/html')
    .send(
      `<!doctype html><html><head><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`,
    );
}

const query = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * `GET /azure/auth` — where the identity platform returns after "authorize application". Redeems
 * the code (with the PKCE verifier kept for this sign-in), which persists the encrypted token cache
 * for the mailbox, records the connected account and starts the mailbox's scan schedule.
 */
export function azureAuthRouter(deps: AzureAuthDeps): Router {
  const { db, secrets, settings } = deps;
  const router = express.Router();

  router.get('/', async (req, res) => {
    const state = query(req.query['state']);
    if (!state)
      return page(res, 400, 'Sign-in failed', 'The response has no state parameter. Start again from the mailbox.');
    const pending = await takeAuthRequest(db, createHash('sha256').update(state).digest('hex'));
    if (!pending || pending.expired) {
      return page(
        res,
        400,
        'Sign-in failed',
        'This sign-in is unknown, already used or expired. Start again from the mailbox.',
      );
    }
    const mailbox = await getMailbox(db, pending.mailbox_id);
    if (!mailbox) return page(res, 404, 'Sign-in failed', 'The mailbox no longer exists.');
    const error = query(req.query['error']);
    if (error) {
      const message = `Sign-in was not completed (${error}): ${query(req.query['error_description']) ?? ''}`.trim();
      await recordMailboxError(db, mailbox.id, message);
      return page(res, 400, 'Sign-in failed', message);
    }
    const code = query(req.query['code']);
    if (!code) return page(res, 400, 'Sign-in failed', 'The response has no authorization code.');

    // Start from an empty cache so the new account replaces whoever was connected before.
    await updateMailbox(db, mailbox.id, { token_cache_enc: null });
    const { app, resolved } = createMsalApp({ db, secrets, http: settings.outbound }, mailbox, { delegated: true });
    let account;
    try {
      const result = await app.acquireTokenByCode({
        code,
        scopes: [...graphScopes(resolved, delegatedPermissions(!!mailbox.shared_mailbox)), 'offline_access'],
        redirectUri: redirectUri(settings),
        codeVerifier: secrets.decrypt(pending.verifier_enc, mailboxAad.pkce(mailbox.id)),
      });
      account = result.account;
    } catch (err) {
      const problem = classifyGraphError(err);
      const message = `The identity platform refused the sign-in (${problem.kind}): ${problem.message}`;
      await recordMailboxError(db, mailbox.id, message);
      deps.logger.warn({ mailboxId: mailbox.id, kind: problem.kind }, 'delegated sign-in failed');
      return page(res, 400, 'Sign-in failed', message);
    }
    if (!account) return page(res, 400, 'Sign-in failed', 'The identity platform returned no account.');
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
    return page(
      res,
      200,
      'Mailbox connected',
      `Connected as ${account.username}. Its mail is now scanned; you can close this window.`,
    );
  });

  return router;
}
