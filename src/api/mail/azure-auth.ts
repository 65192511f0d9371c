import express, { type Response, type Router } from 'express';
import { finishSignIn, type SignInDeps } from '../../mail/mailbox-sign-in';
import { consentNonce } from '../consent-cookie';

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
 * `GET /azure/auth` — where the identity platform returns after "authorize application": the
 * sign-in is finished and the browser shown how it went.
 */
export function azureAuthRouter(deps: SignInDeps): Router {
  const router = express.Router();

  router.get('/', async (req, res) => {
    const state = query(req.query['state']);
    if (!state)
      return page(res, 400, 'Sign-in failed', 'The response has no state parameter. Start again from the mailbox.');
    const outcome = await finishSignIn(deps, {
      state,
      browserNonce: consentNonce(req),
      code: query(req.query['code']),
      error: query(req.query['error']),
      errorDescription: query(req.query['error_description']),
    });
    if (!outcome.ok) return page(res, outcome.status, 'Sign-in failed', outcome.message);
    return page(
      res,
      200,
      'Mailbox connected',
      `Connected as ${outcome.account}. Its mail is now scanned; you can close this window.`,
    );
  });

  return router;
}
