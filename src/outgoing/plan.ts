import { randomUUID } from 'node:crypto';
import { insertBatchItem, type NewBatchItem } from './db/batch-items';
import { insertDelivery, type NewDelivery } from './db/deliveries';
import type { Queryable } from '../platform/db/pool';
import { rowSettings, webhooksForEventType, type WebhookRow } from './db/webhooks';
import { laneWorkflowId } from './workflow-contract';
import { batchGroupKey } from './batching';
import { conditionsMatch } from './conditions';
import type { DomainEvent } from './event';
import { buildPayloadItem } from './payload';

/** What an event owes the webhooks it reached: unbatched deliveries, batch items, and the lanes to wake. */
export interface EventPlan {
  deliveries: NewDelivery[];
  batchItems: NewBatchItem[];
  lanes: string[];
}

/**
 * Matches a stored event against the webhooks subscribed to its type (as read by
 * `webhooksForEventType`) and their conditions: a delivery row for each unbatched webhook, a
 * batch item for each batching one. Computes only; the caller writes the rows. A disabled
 * webhook's delivery is planned all the same: its lane holds it.
 */
export function planDeliveries(webhooks: WebhookRow[], ev: DomainEvent): EventPlan {
  const plan: EventPlan = { deliveries: [], batchItems: [], lanes: [] };
  for (const w of webhooks) {
    const s = rowSettings(w);
    const sub = s.events.find((e) => e.type === ev.type);
    if (!sub || !conditionsMatch(sub.conditions, sub.match, ev.fields, ev.previous)) continue;
    if (s.batching.mode !== 'none') {
      const itemId = randomUUID();
      plan.batchItems.push({
        id: itemId,
        webhook_id: w.id,
        event_id: ev.id,
        group_key: batchGroupKey(s.batching.mode, ev),
        event_type: ev.type,
        item: buildPayloadItem(s.payload, ev, { itemId, webhookId: w.id, messageId: null }),
      });
    } else {
      const deliveryId = randomUUID();
      const item = buildPayloadItem(s.payload, ev, { itemId: deliveryId, webhookId: w.id, messageId: deliveryId });
      plan.deliveries.push({
        id: deliveryId,
        webhook_id: w.id,
        event_id: ev.id,
        group_key: null,
        event_type: ev.type,
        object_id: ev.objectId,
        item_count: 1,
        workflow_id: laneWorkflowId(w.id),
        status: 'pending',
        lightweight: s.lightweightLogs,
        payload: JSON.stringify(item),
      });
    }
    plan.lanes.push(w.id);
  }
  return plan;
}

/**
 * Plans a stored event's deliveries inside the caller's transaction and writes them (see
 * `planDeliveries`). Returns the webhooks whose lanes must be woken once the transaction
 * commits. Idempotent per (webhook, event). A disabled webhook's delivery is queued under the
 * webhook's lock, so an enable racing this cannot strand it.
 */
export async function planEvent(tx: Queryable, ev: DomainEvent): Promise<string[]> {
  const plan = planDeliveries(await webhooksForEventType(tx, ev.type), ev);
  for (const b of plan.batchItems) await insertBatchItem(tx, b);
  for (const d of plan.deliveries) await insertDelivery(tx, d);
  return plan.lanes;
}

/** Webhooks still owing an event something (a queued delivery or an unbatched item): re-woken for a repeated event. */
export async function lanesOwingEvent(db: Queryable, eventId: string): Promise<string[]> {
  const { rows } = await db.query<{ webhook_id: string }>(
    `SELECT webhook_id FROM deliveries WHERE event_id = $1 AND status IN ('pending', 'in_flight', 'retrying')
     UNION SELECT webhook_id FROM batch_items WHERE event_id = $1 AND delivery_id IS NULL`,
    [eventId],
  );
  return rows.map((r) => r.webhook_id);
}
