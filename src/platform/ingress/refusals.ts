import { errorBody } from '../http/error-envelope';
import type { IngressReply } from './ingress';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const DEFERRED_MESSAGE = 'Accepted: the webhook was deferred to the incoming webhook service';
export const PROCESSING_MESSAGE = 'Accepted: the webhook is being processed';

/** A refused request: the JSON error envelope, logged as rejected. */
export function refusal(
  status: number,
  code: string,
  message: string,
  integrationId: string | null,
  details?: unknown,
): IngressReply {
  return {
    status,
    body: errorBody(code, message, details),
    outcome: 'rejected',
    integrationId,
  };
}
