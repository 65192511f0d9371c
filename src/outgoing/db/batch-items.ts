import type { PayloadItem } from '../payload';
import type { Queryable } from '../../platform/db/pool';

// Items of batching webhooks wait here until their lane closes a batch and claims them for a delivery.

export interface NewBatchItem {
  id: string;
  webhook_id: string;
  event_id: string;
  group_key: string;
  event_type: string;
  item: PayloadItem;
}

/** Queues an event's item for a batching webhook, once per (webhook, event). */
export async function insertBatchItem(db: Queryable, b: NewBatchItem): Promise<void> {
  await db.query(
    `INSERT INTO batch_items (id, webhook_id, event_id, group_key, event_type, item) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (webhook_id, event_id) DO NOTHING`,
    [b.id, b.webhook_id, b.event_id, b.group_key, b.event_type, JSON.stringify(b.item)],
  );
}

export interface BatchItemRow {
  id: string;
  event_id: string;
  event_type: string;
  item: PayloadItem;
}

/** Takes up to `limit` unclaimed items of a group, oldest first, for `deliveryId`; returns how many. */
export async function claimBatchItems(
  db: Queryable,
  g: { webhookId: string; groupKey: string; deliveryId: string; limit: number },
): Promise<number> {
  const res = await db.query(
    `UPDATE batch_items SET delivery_id = $3 WHERE id IN (
       SELECT id FROM batch_items WHERE webhook_id = $1 AND group_key = $2 AND delivery_id IS NULL
       ORDER BY created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)`,
    [g.webhookId, g.groupKey, g.deliveryId, g.limit],
  );
  return res.rowCount ?? 0;
}

export async function batchItemsOf(db: Queryable, deliveryId: string): Promise<BatchItemRow[]> {
  const { rows } = await db.query<BatchItemRow>(
    'SELECT id, event_id, event_type, item FROM batch_items WHERE delivery_id = $1 ORDER BY created_at, id',
    [deliveryId],
  );
  return rows;
}

/** A batch group's waiting items: how many, and when the oldest arrived (its window opened). */
export interface WaitingGroup {
  groupKey: string;
  count: number;
  oldest: Date;
}

export async function waitingBatchGroups(db: Queryable, webhookId: string): Promise<WaitingGroup[]> {
  const { rows } = await db.query<{ group_key: string; n: number; oldest: Date }>(
    `SELECT group_key, count(*)::int AS n, min(created_at) AS oldest FROM batch_items
     WHERE webhook_id = $1 AND delivery_id IS NULL GROUP BY group_key`,
    [webhookId],
  );
  return rows.map((r) => ({ groupKey: r.group_key, count: r.n, oldest: r.oldest }));
}
