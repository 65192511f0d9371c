import { beginAttempts, recordDeliverySuccesses, type AttemptStart, type AttemptSuccess } from './db/deliveries';
import { groupCommitted, INTAKE_BATCH_LIMITS } from '../platform/db/statement-batcher';

// A lane sends up to its concurrency limit at once: the attempts opened, and the successes
// recorded, while a statement of the same kind runs go together in the next one (one round trip
// and one commit for many), each still answered only after its own rows committed.

/** `beginAttempts` under group commit: an attempt is opened (and so recorded) before it is sent. */
export const submitAttemptStart = groupCommitted(
  beginAttempts,
  (s: AttemptStart) => s.request?.body?.length ?? 0,
  INTAKE_BATCH_LIMITS,
);

/** `recordDeliverySuccesses` under group commit. */
export const submitAttemptSuccess = groupCommitted(
  recordDeliverySuccesses,
  (s: AttemptSuccess) => s.outcome.responseBody?.length ?? 0,
  INTAKE_BATCH_LIMITS,
);
