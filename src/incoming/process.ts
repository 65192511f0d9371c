import type { IncomingWebhookRow } from './db/incoming-webhooks';
import type { IntegrationRow } from './db/integrations';
import type { DestinationPolicy } from '../platform/http/safe-request';

/**
 * A processing result; `stale` means skipped because newer data was already processed. A
 * `final` failure (bad data) ends the webhook now: no further attempt could succeed.
 */
export type ProcessOutcome =
  { ok: true; result: unknown; status?: 'succeeded' | 'stale' } | { ok: false; error: string; final?: boolean };

/** One outbound call: `send` gets the idempotency key to pass on; `delivered` says whether the receiver took it. */
export interface OutboundCall<T> {
  /** Where it goes (`POST https://…`), for the attempt log. */
  target: string;
  send: (idempotencyKey: string) => Promise<T>;
  delivered: (result: T) => boolean;
}

/**
 * Makes an outbound call at most once per workflow (across runs, executions and attempts),
 * recorded before it is made: a delivered call returns its stored (JSON) result; one whose answer
 * was lost is re-sent with the same key; one the receiver refused is tried again by a later attempt.
 */
export type SendOnce = <T>(step: string, call: OutboundCall<T>) => Promise<T>;

/** What a provider's processor gets: the stored webhook, its integration and a log to write to. */
export interface ProcessContext {
  webhook: IncomingWebhookRow;
  integration: IntegrationRow;
  log: (message: string) => void;
  http: { policy: DestinationPolicy; timeoutMs: number };
  sendOnce: SendOnce;
}
