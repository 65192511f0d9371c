import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { AttemptResult, createDeliveryActivities } from '../activities/outgoing-delivery';
import type { OutgoingDeliveryInput, OutgoingDeliveryResult } from '../shared/workflow-types';

type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

const bookkeeping = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * Delivers one message (a single event, or a batch) to its webhook. The retry schedule is
 * the attempt activity's retry policy: each failed attempt names its own next delay
 * (schedule step or Retry-After), so the attempts are spaced exactly as declared and
 * survive worker restarts.
 */
export async function outgoingDelivery(input: OutgoingDeliveryInput): Promise<OutgoingDeliveryResult> {
  const longest = Math.max(1000, ...input.retryScheduleMs);
  const { attemptDelivery } = proxyActivities<DeliveryActivities>({
    startToCloseTimeout: input.attemptTimeoutMs,
    retry: {
      maximumAttempts: input.retryScheduleMs.length + 1,
      // Used only when an attempt dies without naming its delay (a lost worker, a database error).
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: longest,
      nonRetryableErrorTypes: ['DeliveryMissingError'],
    },
  });

  let result: AttemptResult;
  try {
    result = await attemptDelivery(input.deliveryId, input.retryScheduleMs);
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === 'DeliveryMissingError') return { status: 'deleted' };
    result = { status: 'failed', error: cause?.message ?? (err as Error).message, gone: false };
  }
  if (result.status !== 'failed') return { status: result.status };

  log.warn('delivery failed', { deliveryId: input.deliveryId, error: result.error });
  const { announce } = await bookkeeping.completeDelivery(input.deliveryId, { error: result.error, gone: result.gone });
  if (announce) await bookkeeping.announceWebhookDisabled(input.webhookId, input.deliveryId);
  return { status: 'failed' };
}
