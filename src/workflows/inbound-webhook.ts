import { proxyActivities, sleep, log } from '@temporalio/workflow';
import type { createInboundActivities } from '../activities/inbound';
import type { InboundWebhookInput, InboundWebhookResult } from '../shared/workflow-types';

type InboundActivities = ReturnType<typeof createInboundActivities>;

/**
 * Processes one incoming webhook. The processing method's attempt budget is counted here
 * (a processing failure comes back as a value); the activity's own retry policy only covers
 * infrastructure trouble — a lost worker, a database blip — and never spends that budget.
 */
export async function inboundWebhook(input: InboundWebhookInput): Promise<InboundWebhookResult> {
  const { processIncomingWebhook } = proxyActivities<InboundActivities>({
    startToCloseTimeout: `${input.activityTimeoutSeconds}s`,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      nonRetryableErrorTypes: ['IncomingWebhookMissingError'],
      // A provider's rate limit (ProviderRateLimitedError) is retried after its Retry-After
      // (`nextRetryDelay`), which overrides this backoff and spends no processing attempt.
    },
  });

  const first = input.firstAttempt ?? 1;
  for (let attempt = first; attempt <= input.maxAttempts; attempt++) {
    // The options argument is only passed when set, so histories from before it replay unchanged.
    const outcome = input.fresh
      ? await processIncomingWebhook(input.incomingWebhookId, attempt, input.maxAttempts, { fresh: true })
      : await processIncomingWebhook(input.incomingWebhookId, attempt, input.maxAttempts);
    if (outcome.ok) return { status: 'succeeded', attempts: attempt };
    log.warn('incoming webhook processing failed', { attempt, error: outcome.error });
    if (attempt < input.maxAttempts) {
      await sleep(`${input.retryInitialSeconds * 2 ** (attempt - first)}s`);
    }
  }
  return { status: 'failed', attempts: input.maxAttempts };
}
