import { decodeJsonStrict, parseDateInRange, type InputLimits } from '../platform/http/input-boundary';

/**
 * One provider event as the ingress stores it: a single incoming webhook. A provider POST can
 * carry many; each becomes one of these, keyed by the event's identity so a redelivery dedupes.
 */
export interface InboundProviderEvent {
  tenantId: string;
  entityType: string;
  entityId: string;
  /** `<ENTITY>.<OPERATION>` as the provider names them, e.g. `INVOICE.UPDATE`, `Invoice.Update`. */
  eventType: string;
  eventAt: Date;
  deliveryKey: string;
  /** The event's own JSON, kept as the webhook's payload. */
  payload: string;
}

/** A body that verified but cannot be read: answered 400 and logged as rejected. */
export class InvalidWebhookBodyError extends Error {
  override name = 'InvalidWebhookBodyError';
  constructor(
    readonly code: 'malformed_json' | 'invalid_payload',
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * Parses JSON through the input boundary (strict UTF-8, no NUL) or throws the 400 the ingress
 * answers. Depth and array limits were applied to the body by the ingress boundary already.
 */
export function parseJsonBody(raw: Buffer, limits: InputLimits = STRUCTURE_CHECKED_UPSTREAM): unknown {
  const decoded = decodeJsonStrict(raw, limits);
  if (decoded.ok) return decoded.value;
  const code = decoded.problem.code === 'malformed_json' ? 'malformed_json' : 'invalid_payload';
  throw new InvalidWebhookBodyError(code, decoded.problem.message, { reason: decoded.problem.code });
}

const STRUCTURE_CHECKED_UPSTREAM: InputLimits = {
  maxDepth: Number.MAX_SAFE_INTEGER,
  maxArrayLength: Number.MAX_SAFE_INTEGER,
};

/**
 * True for a date-time string JavaScript reads unambiguously (an explicit zone is added by
 * callers) and within the years the input boundary accepts (a year −200000 is refused).
 */
export const isDateTime = (s: string) => parseDateInRange(s).ok;
