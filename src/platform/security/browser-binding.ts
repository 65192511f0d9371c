import { createHash, randomBytes } from 'node:crypto';

/**
 * Binding an OAuth consent flow to the browser that started it: the start hands the browser a
 * random nonce in an HttpOnly cookie and stores only its hash with the flow's state; the callback
 * is honoured only with the same cookie. A consent link forwarded to someone else carries the
 * state but not the cookie, so it cannot bind the integration or mailbox to their account.
 */
export const CONSENT_COOKIE = 'switchyard_consent';
/** As long as the longest pending consent (a mailbox sign-in) lives. */
export const CONSENT_COOKIE_SECONDS = 15 * 60;

const NONCE_RE = /^[A-Za-z0-9_-]{43}$/;

export const newBrowserNonce = () => randomBytes(32).toString('base64url');
export const isBrowserNonce = (v: string | undefined): v is string => v !== undefined && NONCE_RE.test(v);
export const browserHash = (nonce: string) => createHash('sha256').update(`consent-browser:${nonce}`).digest('hex');

/** Why a callback's browser is not the one that started the flow; null when it is. */
export type BrowserMismatch = 'cookie_missing' | 'other_browser';

export const BROWSER_MISMATCH_MESSAGES: Record<BrowserMismatch, string> = {
  cookie_missing:
    'This browser did not start this sign-in (its consent cookie is missing). A consent link only works in the browser that started it: start again from here.',
  other_browser:
    'This sign-in was started in another browser. A consent link only works in the browser that started it: start again from here.',
};
