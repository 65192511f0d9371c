import { proxyLocalActivities } from '@temporalio/workflow';
import type { createDispatchActivities } from '../activities/outgoing-dispatch';
import type { OutgoingDispatchInput, OutgoingDispatchResult } from '../shared/workflow-types';

type DispatchActivities = ReturnType<typeof createDispatchActivities>;

// Local activities: short, idempotent database and Temporal calls that need no scheduling
// round trip through the server — the busiest path in the product runs once per event.
const { planDispatch, startDelivery, enqueueBatchItem } = proxyLocalActivities<DispatchActivities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['EventMissingError'],
  },
});

/**
 * Fans one event (`dispatch:<eventId>`) out to the webhooks it matches: plans the deliveries
 * and batch items in PostgreSQL, then starts each delivery or signals each batch.
 */
export async function outgoingDispatch(input: OutgoingDispatchInput): Promise<OutgoingDispatchResult> {
  const targets = await planDispatch(input.eventId);
  await Promise.all(targets.map((t) => (t.kind === 'deliver' ? startDelivery(t.deliveryId) : enqueueBatchItem(t))));
  return { targets: targets.length };
}
