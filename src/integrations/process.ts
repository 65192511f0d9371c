import type { IncomingWebhookRow } from '../db/incoming-webhooks';
import type { IntegrationRow } from '../db/integrations';
import type { DestinationPolicy } from '../http/safe-request';

/** A processing result; `stale` means skipped because newer data was already processed. */
export type ProcessOutcome =
  { ok: true; result: unknown; status?: 'succeeded' | 'stale' } | { ok: false; error: string };

/** What a provider's processor gets: the stored webhook, its integration and a log to write to. */
export interface ProcessContext {
  webhook: IncomingWebhookRow;
  integration: IntegrationRow;
  log: (message: string) => void;
  http: { policy: DestinationPolicy; timeoutMs: number };
}
