import type { Request, Response } from 'express';
import { checkedByBoundary } from '../platform/http/input-boundary';
import type { IngressReply, IngressRequest } from '../platform/ingress/ingress';

const UNLOGGED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Headers as stored in the inbound request log: credentials dropped, the rest kept verbatim. */
export function loggableHeaders(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || UNLOGGED_HEADERS.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** An ingress route's body as read raw (empty when there was none). */
export const rawBody = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

/**
 * What intake needs of an Express request to an ingress route (the body parsed raw). `raw`
 * defaults to the body as the log keeps it; Graph's route passes the bytes as sent.
 */
export function ingressRequest(req: Request, res: Response, raw: Buffer = rawBody(req)): IngressRequest {
  return {
    method: req.method,
    path: req.originalUrl,
    params: req.params as Record<string, string | undefined>,
    headers: loggableHeaders(req),
    raw,
    decoded: checkedByBoundary(res, raw),
    declaredBytes: Number(req.get('content-length') ?? 0) || 0,
    remoteAddr: req.ip ?? null,
    startedAt: (res.locals['startedAt'] as number | undefined) ?? performance.now(),
  };
}

/** Sends intake's answer: JSON, text, or bare. */
export function sendReply(res: Response, reply: IngressReply): void {
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status);
  if (reply.body !== undefined) res.type('application/json').send(JSON.stringify(reply.body));
  else if (reply.text !== undefined) res.type('text/plain').send(reply.text);
  else res.end();
}
