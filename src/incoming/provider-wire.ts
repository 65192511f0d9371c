import type { InboundProviderEvent } from './inbound-event';
import type { ProviderName, ProviderSettings } from './provider-types';

/** How one provider's webhooks are read: signature, body, and which events the integration wants. */
export interface ProviderWire {
  provider: ProviderName;
  /** Checks the signature over the raw bytes; `headers` have lower-cased names. */
  verify(raw: Buffer, headers: Record<string, string>, webhookKey: string): boolean;
  /**
   * Xero wants bare answers: 200 with no body for every accepted delivery (its documented
   * contract) and 401 with no body for a bad signature (intent-to-receive depends on it).
   */
  bareAnswers: boolean;
  /** Reads the verified body; throws InvalidWebhookBodyError. `[]` is Xero's intent-to-receive. */
  events(raw: Buffer): InboundProviderEvent[];
  /** Whether the integration's settings ask for this event (entity type, tenant/realm). */
  wanted(event: InboundProviderEvent, settings: ProviderSettings): boolean;
}
