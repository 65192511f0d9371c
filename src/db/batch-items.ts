import type { PayloadItem } from '../outgoing/payload';
import type { Queryable } from './pool';

// Items of batching webhooks wait here until a batch workflow's flush claims them for a delivery.

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

/** Event ids of a group's items still waiting for a batch. */
export async function unclaimedBatchEvents(
  db: Queryable,
  webhookId: string,
  groupKey: string,
  limit: number,
): Promise<string[]> {
  const { rows } = await db.query<{ event_id: string }>(
    `SELECT event_id FROM batch_items WHERE webhook_id = $1 AND group_key = $2 AND delivery_id IS NULL
     ORDER BY created_at, id LIMIT $3`,
    [webhookId, groupKey, limit],
  );
  return rows.map((r) => r.event_id);
}
