import type { IncomingWebhookRow } from '../db/incoming-webhooks';
import type { IntegrationRow } from '../db/integrations';
import type { DestinationPolicy } from '../http/safe-request';

/**
 * A processing result; `stale` means skipped because newer data was already processed. A
 * `final` failure (bad data) ends the webhook now: no further attempt could succeed.
 */
export type ProcessOutcome =
  { ok: true; result: unknown; status?: 'succeeded' | 'stale' } | { ok: false; error: string; final?: boolean };

/** Runs a side effect at most once per activity (across re-runs): a stored result is returned instead. */
export type Once = <T>(step: string, fn: () => Promise<T>) => Promise<T>;

/** What a provider's processor gets: the stored webhook, its integration and a log to write to. */
export interface ProcessContext {
  webhook: IncomingWebhookRow;
  integration: IntegrationRow;
  log: (message: string) => void;
  http: { policy: DestinationPolicy; timeoutMs: number };
  once: Once;
}
