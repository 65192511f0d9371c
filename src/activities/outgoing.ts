import type { OutgoingActivityDeps } from './outgoing-deps';
import { createLaneActivities } from './outgoing-lane';

export type { OutgoingActivityDeps } from './outgoing-deps';

/** Every outgoing-webhook activity: the lane's round (batches, attempts, retries). */
export function createOutgoingActivities(deps: OutgoingActivityDeps) {
  return createLaneActivities(deps);
}

export type OutgoingActivities = ReturnType<typeof createOutgoingActivities>;
