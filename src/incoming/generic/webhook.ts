import { createHmac } from 'node:crypto';

export const GENERIC_SIGNATURE_HEADER = 'x-switchyard-signature';
export const GENERIC_DELIVERY_HEADER = 'x-switchyard-delivery';

/** `sha256=<hex>` of HMAC-SHA256 over the raw body, the generic integration's signature. */
export const signGeneric = (body: Buffer | string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
