import { createHmac } from 'node:crypto';
import { sign } from '../../platform/security/webhook-signing';
import { safeEqualTo } from '../../platform/security/compare';

export const GENERIC_SIGNATURE_HEADER = 'x-switchyard-signature';
export const GENERIC_DELIVERY_HEADER = 'x-switchyard-delivery';

/** `sha256=<hex>` of HMAC-SHA256 over the raw body: the opt-in `body-hmac` scheme of existing senders. */
export const signGeneric = (body: Buffer | string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** The Standard Webhooks headers: the id and the time are signed with the body, so a replay cannot change them. */
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/**
 * How far `webhook-timestamp` may be from now, either way. Ids are remembered (as delivery keys)
 * far longer than this, so a captured request is refused as too old or answered as a duplicate.
 */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** Delivery ids the store accepts, whichever header carries them. */
export const DELIVERY_ID_RE = /^[A-Za-z0-9._:-]{1,200}$/;

export type StandardWebhookCheck =
  { ok: true; id: string } | { ok: false; status: 400 | 401; code: string; message: string };

const refused = (status: 400 | 401, code: string, message: string): StandardWebhookCheck => ({
  ok: false,
  status,
  code,
  message,
});

/** Checks a Standard Webhooks request: the three headers, the time window, then any one `v1` signature. */
export function verifyStandardWebhook(
  headers: Record<string, string | undefined>,
  raw: Buffer,
  secret: string,
  nowMs: number,
): StandardWebhookCheck {
  const id = headers[WEBHOOK_ID_HEADER];
  const timestamp = headers[WEBHOOK_TIMESTAMP_HEADER];
  const signatures = headers[WEBHOOK_SIGNATURE_HEADER];
  if (!id || !timestamp || !signatures) {
    return refused(
      401,
      'missing_signature',
      `${WEBHOOK_ID_HEADER}, ${WEBHOOK_TIMESTAMP_HEADER} and ${WEBHOOK_SIGNATURE_HEADER} are required (Standard Webhooks)`,
    );
  }
  if (!DELIVERY_ID_RE.test(id)) {
    return refused(400, 'invalid_delivery_id', `${WEBHOOK_ID_HEADER} must be 1-200 of [A-Za-z0-9._:-]`);
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return refused(401, 'invalid_timestamp', `${WEBHOOK_TIMESTAMP_HEADER} must be whole seconds since 1970`);
  }
  const seconds = Number(timestamp);
  if (Math.abs(nowMs / 1000 - seconds) > TIMESTAMP_TOLERANCE_SECONDS) {
    return refused(
      401,
      'timestamp_out_of_tolerance',
      `${WEBHOOK_TIMESTAMP_HEADER} is more than ${TIMESTAMP_TOLERANCE_SECONDS / 60} minutes from now (a delayed or replayed request)`,
    );
  }
  const matches = safeEqualTo(sign(secret, id, seconds, raw));
  // Several signatures are allowed while the sender rotates its secret; one that matches is enough.
  const good = signatures
    .split(' ')
    .filter(Boolean)
    .some((s) => matches(s));
  if (!good) return refused(401, 'invalid_signature', 'The signature does not match the id, timestamp and body');
  return { ok: true, id };
}
