import type { EventInput } from '../outgoing';
import type { SafeResponse } from '../platform/http/safe-request';

export type ProviderName = 'xero' | 'quickbooks';

/** Per-tenant API limits a provider enforces; the rate budget keeps us under them. */
export interface RateLimits {
  perSecond?: number | undefined;
  perMinute: number;
  perDay?: number | undefined;
  concurrent: number;
}

/** What every accounting provider's stored settings have in common (never secrets). */
export interface ProviderSettings {
  clientId: string;
  grantType: 'refresh_token' | 'client_credentials';
  scope?: string | undefined;
  entityTypes: string[];
  tokenUrl: string;
  apiBaseUrl: string;
  rateLimits: RateLimits;
  maxIdsPerCall: number;
  batchWaitSeconds?: number | undefined;
}

/** The encrypted part of a provider integration. */
export interface ProviderSecrets {
  /** Xero's webhook key or QuickBooks' verifier token: the HMAC key of the webhook signature. */
  webhookKey: string;
  clientSecret: string;
  /** The refresh token the integration was authorised with (later rotations live in provider_tokens). */
  refreshToken?: string | undefined;
}

/** One request to the provider's API, relative to the configured API base URL. */
export interface ProviderRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends a request with a valid token under the tenant's rate budget. */
export type ProviderCaller = (req: ProviderRequest) => Promise<SafeResponse>;

/** A resource's version as the provider states it: update time, then a sequence as tie-breaker. */
export interface ResourceVersion {
  updatedAt: Date;
  seq: number;
  label: string;
}

export type EntityOperation = 'created' | 'updated' | 'deleted';

/** What processing needs to know about one provider: fetching, versions and domain events. */
export interface ProviderAdapter {
  readonly name: ProviderName;
  /** Downloads many resources of one type in one call; the map is keyed by lower-cased id. */
  fetchResources(
    call: ProviderCaller,
    tenantId: string,
    entityType: string,
    ids: string[],
  ): Promise<Map<string, Record<string, unknown>>>;
  version(resource: Record<string, unknown>): ResourceVersion;
  /** How coarse the provider's update times are: a webhook is only known stale beyond this. */
  readonly timePrecisionMs: number;
  /** The operation a stored webhook reports (its event type's second part). */
  operation(eventType: string): EntityOperation;
  /** What a deletion leaves behind, read from the stored webhook's payload (e.g. what it was merged into). */
  tombstone?(payload: string): Record<string, unknown> | null;
  domainEvent(
    entityType: string,
    op: EntityOperation,
    entityId: string,
    resource: Record<string, unknown> | null,
  ): ProviderDomainEvent | null;
}

/** The event a processed entity emits; processing adds its key, time and source. */
export type ProviderDomainEvent = Omit<EventInput, 'idempotencyKey' | 'occurredAt' | 'source'>;

/** A provider answered with something other than the resources (4xx/5xx, unreadable body). */
export class ProviderRequestError extends Error {
  override name = 'ProviderRequestError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The provider (or our own budget for it) says: not now, try again after `retryAfterMs`. */
export class ProviderRateLimitedError extends Error {
  override name = 'ProviderRateLimitedError';
  constructor(
    readonly retryAfterMs: number,
    readonly reason: string,
    readonly fromProvider: boolean,
  ) {
    super(
      fromProvider
        ? `the provider answered 429 (${reason}); retrying in ${Math.ceil(retryAfterMs / 1000)} s`
        : `the tenant's rate budget is used up (${reason}); waiting ${Math.ceil(retryAfterMs / 1000)} s`,
    );
  }
}
