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

/** Parses JSON or throws the 400 the ingress answers. */
export function parseJsonBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidWebhookBodyError('malformed_json', 'The body is not valid JSON');
  }
}

/** True for a date-time string JavaScript reads unambiguously (an explicit zone is added by callers). */
export const isDateTime = (s: string) => !Number.isNaN(Date.parse(s));
