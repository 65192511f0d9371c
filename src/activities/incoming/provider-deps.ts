import { ApplicationFailure } from '@temporalio/activity';
import type { IntegrationRow } from '../../incoming/db/integrations';
import type { Db } from '../../platform/db/pool';
import { providerCaller, type ProviderRuntime } from '../../incoming/provider-http';
import { ProviderRateLimitedError } from '../../incoming/provider-types';
import { providerSecrets, resolveProvider } from '../../incoming/providers';
import type { ProcessResourcesDeps } from '../../incoming/process';
import type { Logger } from '../../platform/logger';
import { emitEvent } from '../../outgoing/emit';
import type { SecretBox } from '../../platform/security/secret-box';

/** What the provider activities need; the worker passes real ones. */
export interface ProviderActivityDeps {
  db: Db;
  logger: Logger;
  secrets: SecretBox;
  runtime: ProviderRuntime;
}

export { providerRuntime } from '../../incoming/provider-http';

/** Processing dependencies for one integration and tenant, emitting through the worker's client. */
export function resourceDeps(
  deps: ProviderActivityDeps,
  integration: IntegrationRow,
  tenantId: string,
): ProcessResourcesDeps {
  const { adapter, settings } = resolveProvider(integration);
  const secrets = providerSecrets(deps.secrets, integration);
  return {
    db: deps.db,
    adapter,
    caller: providerCaller(deps.runtime, integration, settings, secrets, tenantId),
    maxIdsPerCall: settings.maxIdsPerCall,
    // The event and its lanes' wake commit together; a starter hears the NOTIFY.
    emit: (event) => emitEvent({ db: deps.db }, event),
  };
}

/**
 * A rate limit is not a processing failure: the activity is retried after the wait
 * (`nextRetryDelay`) without spending the webhook's attempts.
 */
export function rethrowRateLimit(err: unknown): void {
  if (err instanceof ProviderRateLimitedError) {
    throw ApplicationFailure.create({
      type: 'ProviderRateLimitedError',
      message: err.message,
      nextRetryDelay: err.retryAfterMs,
      details: [{ reason: err.reason, fromProvider: err.fromProvider }],
    });
  }
}
