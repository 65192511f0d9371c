import { envelopeUrl, type PayloadItem } from './payload';
import { signatureHeader } from '../platform/security/webhook-signing';
import type { AuthSecret, WebhookAuth } from './webhook-config';

export const USER_AGENT = 'Switchyard-Webhooks/1.0';
const REDACTED = '[redacted]';

export interface OutgoingRequest {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface BuiltRequest {
  request: OutgoingRequest;
  /** The headers as the attempt log keeps them: credentials replaced. */
  loggedHeaders: Record<string, string>;
}

function authHeader(auth: WebhookAuth, secret: AuthSecret): [string, string] | undefined {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'basic':
      return ['authorization', `Basic ${Buffer.from(`${auth.username}:${secret.password ?? ''}`).toString('base64')}`];
    case 'bearer':
      return ['authorization', `Bearer ${secret.token ?? ''}`];
    case 'header':
      return [auth.name.toLowerCase(), secret.value ?? ''];
  }
}

/**
 * One signed attempt's request. POST sends the stored payload as JSON; GET sends the
 * envelope as query parameters and, having no body, signs the query string instead.
 * `webhook-id` is the delivery id, the same on every retry, so receivers can deduplicate.
 */
export function buildRequest(o: {
  deliveryId: string;
  method: 'POST' | 'GET';
  url: string;
  auth: WebhookAuth;
  authSecret: AuthSecret;
  signingSecrets: readonly string[];
  payload: string;
  now: Date;
}): BuiltRequest {
  const ts = Math.floor(o.now.getTime() / 1000);
  let url = o.url;
  let body: string | undefined;
  let signed: string;
  if (o.method === 'GET') {
    url = envelopeUrl(o.url, JSON.parse(o.payload) as PayloadItem);
    signed = new URL(url).search.replace(/^\?/, '');
  } else {
    body = o.payload;
    signed = body;
  }
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    'webhook-id': o.deliveryId,
    'webhook-timestamp': String(ts),
    'webhook-signature': signatureHeader(o.signingSecrets, o.deliveryId, ts, signed),
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const auth = authHeader(o.auth, o.authSecret);
  if (auth) headers[auth[0]] = auth[1];
  const loggedHeaders = { ...headers, ...(auth ? { [auth[0]]: REDACTED } : {}) };
  return {
    request: body === undefined ? { method: o.method, url, headers } : { method: o.method, url, headers, body },
    loggedHeaders,
  };
}

/** Cuts text to at most `maxBytes` of UTF-8, reporting whether anything was cut. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return { text, truncated: false };
  // Decoding a cut multi-byte sequence yields U+FFFD; dropping it keeps the log clean.
  return {
    text: buf
      .subarray(0, maxBytes)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
    truncated: true,
  };
}
