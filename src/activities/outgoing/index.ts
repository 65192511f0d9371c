import type { OutgoingActivityDeps } from './deps';
import { createLaneActivities } from './lane';

export type { OutgoingActivityDeps } from './deps';

/** Every outgoing-webhook activity: the lane's round (batches, attempts, retries). */
export function createOutgoingActivities(deps: OutgoingActivityDeps) {
  return createLaneActivities(deps);
}

export type OutgoingActivities = ReturnType<typeof createOutgoingActivities>;
