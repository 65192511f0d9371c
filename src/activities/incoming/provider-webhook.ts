import type { ProviderWebhookRow } from '../../incoming/db/provider-webhooks';
import { TokenRefreshError } from '../../incoming/oauth-tokens';
import { processResources } from '../../incoming/process-resources';
import type { ProcessContext, ProcessOutcome } from '../../incoming/process';
import { resourceDeps, rethrowRateLimit, type ProviderActivityDeps } from './provider-deps';

/**
 * The immediate methods' processor for a Xero or QuickBooks webhook: the shared resource
 * processing for a single webhook. A rate limit leaves as a retryable activity failure.
 */
export async function processProviderWebhook(
  deps: ProviderActivityDeps,
  ctx: ProcessContext,
  attempt: number,
  fresh: boolean,
): Promise<ProcessOutcome> {
  const webhook = ctx.webhook as ProviderWebhookRow;
  if (!webhook.tenant_id || !webhook.entity_type || !webhook.entity_id) {
    return { ok: false, error: 'the webhook has no tenant or entity to process' };
  }
  try {
    const outcomes = await processResources(
      resourceDeps(deps, ctx.integration, webhook.tenant_id),
      {
        integrationId: ctx.integration.id,
        provider: ctx.integration.provider,
        tenantId: webhook.tenant_id,
        entityType: webhook.entity_type,
      },
      [{ webhook, attempt, fresh }],
      (_id, message) => ctx.log(message),
    );
    const outcome = outcomes.get(webhook.id);
    if (!outcome) return { ok: false, error: 'processing produced no outcome' };
    return outcome.status === 'failed'
      ? { ok: false, error: outcome.error }
      : { ok: true, status: outcome.status, result: outcome.result };
  } catch (err) {
    rethrowRateLimit(err);
    if (err instanceof TokenRefreshError) return { ok: false, error: `no access token: ${err.message}` };
    throw err;
  }
}
