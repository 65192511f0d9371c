import type { IncomingWebhookRow } from './db/incoming-webhooks';
import type { IntegrationRow } from './db/integrations';
import type { DestinationPolicy } from '../platform/http/safe-request';
import type { OutboundCall, SendOnce } from '../platform/effects/send-once';

export type { OutboundCall, SendOnce };

/**
 * A processing result; `stale` means skipped because newer data was already processed. A
 * `final` failure (bad data) ends the webhook now: no further attempt could succeed.
 */
export type ProcessOutcome =
  { ok: true; result: unknown; status?: 'succeeded' | 'stale' } | { ok: false; error: string; final?: boolean };

/** What a provider's processor gets: the stored webhook, its integration and a log to write to. */
export interface ProcessContext {
  webhook: IncomingWebhookRow;
  integration: IntegrationRow;
  log: (message: string) => void;
  http: { policy: DestinationPolicy; timeoutMs: number };
  sendOnce: SendOnce;
}
