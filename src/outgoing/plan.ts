import { randomUUID } from 'node:crypto';
import { insertBatchItem } from './db/batch-items';
import { insertDelivery } from './db/deliveries';
import type { Queryable } from '../platform/db/pool';
import { rowSettings, webhooksForEventType } from './db/webhooks';
import { laneWorkflowId } from './workflow-contract';
import { batchGroupKey } from './batching';
import { conditionsMatch } from './conditions';
import type { DomainEvent } from './event';
import { buildPayloadItem } from './payload';

/**
 * Plans a stored event's deliveries inside the caller's transaction: matches it against every
 * subscribed webhook and its conditions and writes a delivery row (or, for a batching webhook,
 * a batch item). Returns the webhooks whose lanes must be woken once the transaction commits.
 * Idempotent per (webhook, event). A disabled webhook's delivery is queued all the same: its
 * lane holds it (under the webhook's lock, so an enable racing this cannot strand it).
 */
export async function planEvent(tx: Queryable, ev: DomainEvent): Promise<string[]> {
  const wake: string[] = [];
  for (const w of await webhooksForEventType(tx, ev.type)) {
    const s = rowSettings(w);
    const sub = s.events.find((e) => e.type === ev.type);
    if (!sub || !conditionsMatch(sub.conditions, sub.match, ev.fields, ev.previous)) continue;
    if (s.batching.mode !== 'none') {
      const itemId = randomUUID();
      await insertBatchItem(tx, {
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
      await insertDelivery(tx, {
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
    wake.push(w.id);
  }
  return wake;
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
