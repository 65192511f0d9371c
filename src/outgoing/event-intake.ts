import { insertEventsIntake } from './db/event-intake';
import type { NewEvent } from './db/events';
import { webhooksForEventTypes } from './db/webhooks';
import { groupCommitted } from '../platform/db/statement-batcher';
import type { Db } from '../platform/db/pool';
import type { DomainEvent } from './event';
import { laneWakeJobs } from './lane-starter';
import { planDeliveries } from './plan';

/**
 * Accepts a batch of new events in two round trips: the webhooks subscribed to their types,
 * read once, then every event with its planned deliveries, batch items and lane wakes in one
 * statement (`insertEventsIntake`). Answers, for each event stored, how many lanes it woke;
 * undefined for one whose idempotency key was taken, which the caller decides in a transaction
 * of its own.
 */
async function acceptEvents(
  db: Db,
  items: Array<{ row: NewEvent; event: DomainEvent }>,
): Promise<Array<number | undefined>> {
  const webhooks = await webhooksForEventTypes(db, [...new Set(items.map((i) => i.event.type))]);
  const intakes = items.map(({ row, event }) => {
    const plan = planDeliveries(
      webhooks.filter((w) => w.event_types.includes(event.type)),
      event,
    );
    return { event: row, plan, wakes: laneWakeJobs(plan.lanes) };
  });
  const stored = await insertEventsIntake(db, intakes);
  return intakes.map((i, n) => (stored[n] ? i.plan.lanes.length : undefined));
}

/**
 * `acceptEvents` under group commit (`groupCommitted`): events posted at once share the two
 * round trips and one commit, each still answered only after its own rows committed.
 */
export const submitEvent = groupCommitted(acceptEvents, (item) => JSON.stringify(item.row.data).length);
