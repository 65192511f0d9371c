import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { safeEqual } from '../security/compare';

/** True when `host` (HTTP_HOST) is a loopback address: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Who may scrape `/metrics`. With METRICS_TOKEN set: whoever sends it as a bearer token
 * (Prometheus: `authorization: { credentials: <token> }`), else 401. Without one: anyone when
 * the API listens on loopback only; on any other address nobody (403 naming the setting), since
 * the figures describe every tenant's traffic and each scrape costs database work.
 */
export function metricsAccess({ token, host }: { token: string | undefined; host: string }): RequestHandler {
  const open = !token && isLoopbackHost(host);
  return (req, res, next) => {
    if (open) return next();
    if (!token) {
      return void res.status(403).json({
        error: {
          code: 'metrics_token_required',
          message: 'The API listens on a non-loopback address: set METRICS_TOKEN to scrape /metrics',
        },
      });
    }
    const given = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
    if (safeEqual(given, token)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="metrics"')
      .json({ error: { code: 'unauthorized', message: 'Send the metrics token as "Authorization: Bearer <token>"' } });
  };
}

/**
 * One rendering shared by every scrape within `seconds` (0: every scrape renders), and by the
 * scrapes that arrive while it is being made: a scrape storm costs one set of table counts per
 * window. A failed rendering is not kept.
 */
export function cachedRender(render: () => Promise<string>, seconds: number): () => Promise<string> {
  let current: { text: Promise<string>; until: number } | undefined;
  return () => {
    const now = Date.now();
    if (current && now < current.until) return current.text;
    const text = render();
    const entry = { text, until: seconds > 0 ? Number.POSITIVE_INFINITY : 0 };
    current = entry;
    // The window starts when the rendering is done: until then, callers share the one in flight.
    text.then(
      () => {
        if (current === entry) entry.until = Date.now() + seconds * 1000;
      },
      () => {
        if (current === entry) current = undefined;
      },
    );
    return text;
  };
}
