import type { Request, Response } from 'express';
import {
  CONSENT_COOKIE,
  CONSENT_COOKIE_SECONDS,
  isBrowserNonce,
  newBrowserNonce,
} from '../platform/security/browser-binding';

/** The consent nonce the browser's cookie carries, when it carries a well-formed one. */
export function consentNonce(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === CONSENT_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return isBrowserNonce(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * Sets (or refreshes) the consent cookie when a flow starts and returns its nonce. A browser that
 * already has one keeps it, so two flows started side by side both finish. SameSite=Lax: the
 * provider's redirect back is a top-level GET, which carries it; Secure when the callback is https.
 */
export function bindConsentToBrowser(req: Request, res: Response, callbackUrl: string): string {
  const nonce = consentNonce(req) ?? newBrowserNonce();
  res.cookie(CONSENT_COOKIE, nonce, {
    httpOnly: true,
    sameSite: 'lax',
    secure: new URL(callbackUrl).protocol === 'https:',
    path: '/',
    maxAge: CONSENT_COOKIE_SECONDS * 1000,
  });
  return nonce;
}
