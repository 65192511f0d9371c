import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { insertBatchItem } from '../db/batch-items';
import { getDelivery, insertDelivery } from '../db/deliveries';
import { getEvent, toDomainEvent } from '../db/events';
import { getWebhook, rowSettings, webhooksForEventType } from '../db/webhooks';
import { batchGroupKey, groupEventType } from '../outgoing/batching';
import { conditionsMatch } from '../outgoing/conditions';
import { buildPayloadItem } from '../outgoing/payload';
import { signalBatchWorkflow, startDeliveryWorkflow, type StartDeps } from '../outgoing/start';
import { outgoingWorkflowIds, type BatchTarget, type DispatchTarget } from '../shared/workflow-types';
import type { OutgoingActivityDeps } from './outgoing-deps';

/** Client and task queue of the worker running the current activity. */
export function startDepsHere(deps: OutgoingActivityDeps): StartDeps {
  const ctx = Context.current();
  return { temporal: ctx.client, taskQueue: ctx.info.taskQueue, settings: deps.settings };
}

export function createDispatchActivities(deps: OutgoingActivityDeps) {
  const { db } = deps;
  return {
    /**
     * Matches the event against every subscribed webhook and records what each gets: a
     * delivery (held when the webhook is disabled) or a batch item. Idempotent: a retry
     * finds the rows it wrote and returns the same targets.
     */
    async planDispatch(eventId: string): Promise<DispatchTarget[]> {
      const row = await getEvent(db, eventId);
      if (!row) {
        throw ApplicationFailure.create({
          type: 'EventMissingError',
          message: `event ${eventId} does not exist`,
          nonRetryable: true,
        });
      }
      const ev = toDomainEvent(row);
      const targets: DispatchTarget[] = [];
      for (const w of await webhooksForEventType(db, ev.type)) {
        const s = rowSettings(w);
        const sub = s.events.find((e) => e.type === ev.type);
        if (!sub || !conditionsMatch(sub.conditions, sub.match, ev.fields, ev.previous)) continue;
        if (s.batching.mode !== 'none') {
          const itemId = randomUUID();
          const groupKey = batchGroupKey(s.batching.mode, ev);
          await insertBatchItem(db, {
            id: itemId,
            webhook_id: w.id,
            event_id: ev.id,
            group_key: groupKey,
            event_type: ev.type,
            item: buildPayloadItem(s.payload, ev, { itemId, webhookId: w.id, messageId: null }),
          });
          targets.push({ kind: 'batch', webhookId: w.id, groupKey, eventId: ev.id });
          continue;
        }
        const deliveryId = randomUUID();
        const item = buildPayloadItem(s.payload, ev, { itemId: deliveryId, webhookId: w.id, messageId: deliveryId });
        const { row: d } = await insertDelivery(db, {
          id: deliveryId,
          webhook_id: w.id,
          event_id: ev.id,
          group_key: null,
          event_type: ev.type,
          object_id: ev.objectId,
          item_count: 1,
          workflow_id: outgoingWorkflowIds.delivery(w.id, ev.id),
          // A disabled webhook's events are held, not dropped; enabling it releases them.
          status: w.enabled ? 'pending' : 'held',
          lightweight: s.lightweightLogs,
          payload: JSON.stringify(item),
        });
        if (d.status === 'pending') targets.push({ kind: 'deliver', deliveryId: d.id });
      }
      return targets;
    },

    /** Starts a planned delivery's workflow (once, whatever the retries). */
    async startDelivery(deliveryId: string): Promise<void> {
      const d = await getDelivery(db, deliveryId);
      if (!d || d.status !== 'pending') return;
      await startDeliveryWorkflow(startDepsHere(deps), d, 'first');
    },

    /** Signals the event into its group's batch workflow, starting that workflow if needed. */
    async enqueueBatchItem(t: BatchTarget): Promise<void> {
      const w = await getWebhook(db, t.webhookId);
      if (!w) return;
      const { waitSeconds, maxItems } = w.config.batching;
      await signalBatchWorkflow(startDepsHere(deps), {
        ...t,
        waitSeconds,
        maxItems,
        eventType: groupEventType(t.groupKey),
      });
    },
  };
}
