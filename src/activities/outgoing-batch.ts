import { batchItemsOf, claimBatchItems, unclaimedBatchEvents, type BatchItemRow } from '../db/batch-items';
import { fillBatchDelivery, getDelivery, insertDelivery } from '../db/deliveries';
import { withTransaction } from '../db/pool';
import { getWebhook } from '../db/webhooks';
import { withMessageId } from '../outgoing/payload';
import { startDeliveryWorkflow } from '../outgoing/start';
import { outgoingWorkflowIds } from '../shared/workflow-types';
import { startDepsHere } from './outgoing-dispatch';
import type { OutgoingActivityDeps } from './outgoing-deps';

export interface FlushInput {
  webhookId: string;
  groupKey: string;
  /** Chosen by the workflow (deterministically), so a retried flush finds its own batch. */
  deliveryId: string;
  maxItems: number;
}

export interface FlushResult {
  deliveryId: string | null;
  /** Events this flush put in its batch. */
  claimed: string[];
  /** Events of the group still waiting (at most `maxItems` listed). */
  unclaimed: string[];
  /** The webhook's current batching, or null once it is deleted or no longer batches. */
  batching: { waitSeconds: number; maxItems: number } | null;
}

export function createBatchActivities(deps: OutgoingActivityDeps) {
  const { db, logger } = deps;
  return {
    /**
     * Closes a batch: claims up to `maxItems` of the group's waiting items (oldest first) —
     * PostgreSQL, not the workflow's memory, decides what is in it, so a duplicate signal
     * cannot send an event twice — stores the JSON array as one delivery and starts it.
     */
    async flushBatch(input: FlushInput): Promise<FlushResult> {
      const w = await getWebhook(db, input.webhookId);
      if (!w) return { deliveryId: null, claimed: [], unclaimed: [], batching: null };
      let items: BatchItemRow[] = await batchItemsOf(db, input.deliveryId);
      if (!(await getDelivery(db, input.deliveryId))) {
        items = await withTransaction(db, async (c) => {
          const { created } = await insertDelivery(c, {
            id: input.deliveryId,
            webhook_id: w.id,
            event_id: null,
            group_key: input.groupKey,
            event_type: null,
            object_id: null,
            item_count: 0,
            workflow_id: outgoingWorkflowIds.batchDelivery(w.id, input.deliveryId),
            status: 'pending',
            lightweight: w.lightweight_logs,
            payload: '[]',
          });
          if (!created) return batchItemsOf(c, input.deliveryId);
          const n = await claimBatchItems(c, { ...input, limit: input.maxItems });
          if (n === 0) {
            await c.query('DELETE FROM deliveries WHERE id = $1', [input.deliveryId]);
            return [];
          }
          const claimed = await batchItemsOf(c, input.deliveryId);
          const types = new Set(claimed.map((i) => i.event_type));
          await fillBatchDelivery(c, input.deliveryId, {
            payload: JSON.stringify(claimed.map((i) => withMessageId(i.item, input.deliveryId))),
            itemCount: claimed.length,
            eventType: types.size === 1 ? claimed[0]!.event_type : null,
            status: w.enabled ? 'pending' : 'held',
          });
          return claimed;
        });
      }
      const d = await getDelivery(db, input.deliveryId);
      if (d?.status === 'pending') await startDeliveryWorkflow(startDepsHere(deps), d, 'first');
      if (d)
        logger.info(
          { webhookId: w.id, groupKey: input.groupKey, deliveryId: d.id, items: items.length },
          'batch flushed',
        );
      const { mode, waitSeconds, maxItems } = w.config.batching;
      return {
        deliveryId: d?.id ?? null,
        claimed: items.map((i) => i.event_id),
        unclaimed: await unclaimedBatchEvents(db, w.id, input.groupKey, input.maxItems),
        batching: mode === 'none' ? null : { waitSeconds, maxItems },
      };
    },
  };
}
