import type { RequestHandler } from 'express';

/**
 * The Content-Security-Policy of every response. The console loads its scripts and styles from
 * its own files only (no inline script or style), so `'self'` is all it needs; `data:` and
 * `blob:` images are the inline images of a mail body, which the console hands to a sandboxed
 * srcdoc frame (that frame inherits this policy). No page may be framed by another site.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers every answer carries: the policy above, `nosniff` (a body is only ever what its
 * Content-Type says, so an uploaded or echoed text is never run as script or style), and the
 * older `X-Frame-Options` for browsers that predate `frame-ancestors`. A route may set a
 * stricter policy of its own (the OAuth result pages send `default-src 'none'`).
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
  });
  next();
};
