import { ActivityFailure, proxyActivities, sleep, log } from '@temporalio/workflow';
import type { createInboundActivities } from '../../activities/incoming/inbound';
import type { InboundWebhookInput, InboundWebhookResult } from '../../incoming/workflow-contract';

type InboundActivities = ReturnType<typeof createInboundActivities>;

/** Infrastructure retries of one attempt (a lost worker, a database outage) before the webhook fails. */
const MAX_TRIES_PER_ATTEMPT = 30;

/**
 * Processes one incoming webhook. The processing method's attempt budget is counted here
 * (a processing failure comes back as a value); the activity's own retry policy only covers
 * infrastructure trouble — a lost worker, a database blip — and never spends that budget,
 * but it has a ceiling: past it the webhook ends `failed` instead of retrying forever.
 */
export async function inboundWebhook(input: InboundWebhookInput): Promise<InboundWebhookResult> {
  const { processIncomingWebhook } = proxyActivities<InboundActivities>({
    startToCloseTimeout: `${input.activityTimeoutSeconds}s`,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: MAX_TRIES_PER_ATTEMPT,
      nonRetryableErrorTypes: ['IncomingWebhookMissingError'],
      // A provider's rate limit (ProviderRateLimitedError) is retried after its Retry-After
      // (`nextRetryDelay`), which overrides this backoff and spends no processing attempt.
    },
  });
  const { failIncomingWebhook } = proxyActivities<InboundActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '1m', maximumAttempts: MAX_TRIES_PER_ATTEMPT },
  });

  const first = input.firstAttempt ?? 1;
  for (let attempt = first; attempt <= input.maxAttempts; attempt++) {
    let outcome;
    try {
      // The options argument is only passed when set, so histories from before it replay unchanged.
      outcome = input.fresh
        ? await processIncomingWebhook(input.incomingWebhookId, attempt, input.maxAttempts, { fresh: true })
        : await processIncomingWebhook(input.incomingWebhookId, attempt, input.maxAttempts);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const reason = err.cause?.message ?? err.message;
      log.error('incoming webhook processing gave up', { attempt, error: reason });
      await failIncomingWebhook(input.incomingWebhookId, `processing could not complete: ${reason}`);
      return { status: 'failed', attempts: attempt };
    }
    if (outcome.ok) return { status: 'succeeded', attempts: attempt };
    log.warn('incoming webhook processing failed', { attempt, error: outcome.error });
    if (outcome.final) return { status: 'failed', attempts: attempt };
    if (attempt < input.maxAttempts) {
      await sleep(`${input.retryInitialSeconds * 2 ** (attempt - first)}s`);
    }
  }
  return { status: 'failed', attempts: input.maxAttempts };
}
