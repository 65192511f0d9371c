import { createBatchActivities } from './outgoing-batch';
import { createDeliveryActivities } from './outgoing-delivery';
import type { OutgoingActivityDeps } from './outgoing-deps';
import { createDispatchActivities } from './outgoing-dispatch';

export type { OutgoingActivityDeps } from './outgoing-deps';

/** Every outgoing-webhook activity: dispatch, delivery attempts and batch flushes. */
export function createOutgoingActivities(deps: OutgoingActivityDeps) {
  return {
    ...createDispatchActivities(deps),
    ...createDeliveryActivities(deps),
    ...createBatchActivities(deps),
  };
}

export type OutgoingActivities = ReturnType<typeof createOutgoingActivities>;
