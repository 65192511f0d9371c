import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { trace } from '@opentelemetry/api';
import { contextFromTraceparent, inSpan } from '../../platform/tracing';
import { claimBatchItems, batchItemsOf, waitingBatchGroups } from '../../outgoing/db/batch-items';
import {
  claimDueDeliveries,
  claimQueueHead,
  fillBatchDelivery,
  holdQueuedDeliveries,
  insertDelivery,
  laneCounts,
  nextDeliveryDue,
  unclaimDelivery,
  type DeliveryRow,
} from '../../outgoing/db/deliveries';
import { withTransaction } from '../../platform/db/pool';
import { clearLanePolling, markLanePolling } from '../../outgoing/db/lane-rounds';
import { getWebhook, rowSettings, type WebhookRow } from '../../outgoing/db/webhooks';
import { emitEvent } from '../../outgoing/emit';
import { withMessageId } from '../../outgoing/payload';
import { RatePacer } from '../../outgoing/rate-limit';
import type { WebhookSettings } from '../../outgoing/webhook-config';
import {
  emptyRoundCounters,
  laneWorkflowId,
  type LaneRoundInput,
  type LaneRoundResult,
} from '../../outgoing/workflow-contract';
import { createAttempter, type AttemptReport } from './attempt';
import type { OutgoingActivityDeps } from './deps';

/** One `runLane` call sends for at most this long before it hands back to the workflow. */
const ROUND_MS = 30_000;
/** A lane that ran dry keeps looking this long before it returns (a steady stream never pays the round trip). */
const LINGER_MS = 2_000;
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 50;
/** The webhook row (enabled, limits) is re-read at least this often while a round runs. */
const SETTINGS_TTL_MS = 1_000;
/** A round renews its "polling" mark this often, for this long (it outlives a renewal missed under load). */
const POLLING_MARK_EVERY_MS = 1_000;
const POLLING_MARK_SECONDS = 5;
/** Bookkeeping time a claim allows on top of the HTTP timeout before another lane may take the delivery. */
const LEASE_MARGIN_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Counters = LaneRoundResult['counters'];

export function createLaneActivities(deps: OutgoingActivityDeps) {
  const { db, logger, settings } = deps;
  const attempt = createAttempter(deps);
  const limits = new Map<string, RatePacer>();
  const leaseMs = settings.requestTimeoutMs + LEASE_MARGIN_MS;

  const rateLimitFor = (w: WebhookRow, s: WebhookSettings, carried = 0) => {
    if (s.rateLimitPerSecond === null) {
      limits.delete(w.id);
      return undefined;
    }
    let l = limits.get(w.id);
    if (l?.perSecond !== s.rateLimitPerSecond) {
      limits.set(w.id, (l = new RatePacer(s.rateLimitPerSecond)));
      // The previous round may have run on another worker: its pace carries over.
      l.seed(carried);
    }
    return l;
  };

  /**
   * Closes the batches that are due — full, or their window (opened by the oldest waiting
   * item) elapsed — as deliveries in the lane's queue. Returns how many were closed and when
   * the earliest open window closes.
   */
  async function closeBatches(w: WebhookRow, s: WebhookSettings): Promise<{ closed: number; nextAt: number | null }> {
    const { mode, waitSeconds, maxItems } = s.batching;
    let closed = 0;
    let nextAt: number | null = null;
    for (const g of await waitingBatchGroups(db, w.id)) {
      // A webhook that stopped batching sends what was waiting at once.
      const windowEnd = mode === 'none' ? 0 : g.oldest.getTime() + waitSeconds * 1000;
      let left = g.count;
      while (left >= maxItems || (left > 0 && windowEnd <= Date.now())) {
        const n = await closeBatch(w, g.groupKey, maxItems);
        if (n === 0) break;
        closed++;
        left -= n;
      }
      if (left > 0 && windowEnd > Date.now()) nextAt = Math.min(nextAt ?? Infinity, windowEnd);
    }
    return { closed, nextAt };
  }

  /** One batch: a delivery holding up to `maxItems` of the group's waiting items, oldest first. */
  async function closeBatch(w: WebhookRow, groupKey: string, maxItems: number): Promise<number> {
    const deliveryId = randomUUID();
    return withTransaction(db, async (c) => {
      await insertDelivery(c, {
        id: deliveryId,
        webhook_id: w.id,
        event_id: null,
        group_key: groupKey,
        event_type: null,
        object_id: null,
        item_count: 0,
        workflow_id: laneWorkflowId(w.id),
        status: 'pending',
        lightweight: w.lightweight_logs,
        payload: '[]',
      });
      const n = await claimBatchItems(c, { webhookId: w.id, groupKey, deliveryId, limit: maxItems });
      if (n === 0) {
        await c.query('DELETE FROM deliveries WHERE id = $1', [deliveryId]);
        return 0;
      }
      const items = await batchItemsOf(c, deliveryId);
      const types = new Set(items.map((i) => i.event_type));
      await fillBatchDelivery(c, deliveryId, {
        payload: JSON.stringify(items.map((i) => withMessageId(i.item, deliveryId))),
        itemCount: items.length,
        eventType: types.size === 1 ? items[0]!.event_type : null,
      });
      logger.info({ webhookId: w.id, groupKey, deliveryId, items: n }, 'batch closed');
      return n;
    });
  }

  /**
   * Holds the queue of a webhook that is disabled. The share lock orders this against an
   * enable, which releases held deliveries in the same transaction as it enables.
   */
  async function holdIfDisabled(webhookId: string): Promise<boolean> {
    return withTransaction(db, async (c) => {
      const w = await getWebhook(c, webhookId, 'share');
      if (!w || w.enabled) return false;
      await holdQueuedDeliveries(c, webhookId);
      return true;
    });
  }

  /** Emits "Webhook disabled" for the delivery that disabled it; idempotent, so repeated until it got through. */
  async function announceDisabled(w: WebhookRow): Promise<void> {
    if (w.enabled || !w.disabled_by_delivery) return;
    const { duplicate } = await emitEvent(
      { db },
      {
        type: 'webhook.disabled',
        objectId: w.id,
        object: {
          fields: {
            name: w.name,
            url: w.url,
            reason: w.disabled_reason,
            consecutiveFailures: w.consecutive_failures,
            disabledAt: w.disabled_at?.toISOString() ?? null,
          },
        },
        idempotencyKey: `webhook-disabled:${w.id}:${w.disabled_by_delivery}`,
        source: 'switchyard',
      },
    );
    if (!duplicate) {
      logger.warn({ webhookId: w.id, reason: w.disabled_reason, failures: w.consecutive_failures }, 'webhook disabled');
    }
  }

  return {
    /**
     * One round of a webhook's lane: closes due batches, claims due deliveries (the queue's
     * head only, with strict ordering) and sends them concurrently within the webhook's
     * concurrency and rate limits, recording every attempt. Keeps going while work is due —
     * for a bounded time — then reports counters and when the lane is next due. Heartbeats,
     * so a lost worker is noticed; its claims expire and the next round takes them over.
     */
    async runLane(input: LaneRoundInput): Promise<LaneRoundResult> {
      const ctx = Context.current();
      const counters: Counters = emptyRoundCounters();
      const inFlight = new Map<string, Promise<void>>();
      const started = Date.now();
      let lastWork = started;
      let poll = POLL_MIN_MS;
      let w: WebhookRow | undefined;
      let loadedAt = 0;
      let batchNextAt: number | null = null;
      let held = false;
      let firstPass = true;

      // Claimed deliveries still waiting for their turn under the rate limit.
      let pendingStarts = 0;
      const track = (d: DeliveryRow, webhook: WebhookRow, limit: RatePacer | undefined) => {
        let waiting = limit !== undefined;
        if (waiting) pendingStarts++;
        const started = () => {
          if (waiting) pendingStarts--;
          waiting = false;
        };
        const beforeSend =
          limit &&
          (async () => {
            await limit.acquire();
            started();
          });
        // The lane sends for many events: each attempt joins its own event's trace, linked to this round.
        const round = trace.getActiveSpan()?.spanContext();
        const p = inSpan(
          'delivery.attempt',
          {
            // A batch (no one event) stays in the round's trace.
            ...(d.event_trace_parent ? { parent: contextFromTraceparent(d.event_trace_parent) } : {}),
            links: round && d.event_trace_parent ? [{ context: round }] : [],
            attributes: { 'switchyard.delivery_id': d.id, 'switchyard.webhook_id': webhook.id },
          },
          () => attempt(d, webhook, beforeSend),
        )
          .then((r: AttemptReport) => {
            counters.attempts++;
            if (r.afterLostResponse) counters.resentAfterLostResponse++;
            if (r.result === 'succeeded') counters.succeeded++;
            else if (r.result === 'retrying') counters.retried++;
            else counters.failed++;
            // A delivery that disabled the webhook: re-read it now so nothing more goes out.
            if (r.disabledWebhook || r.result === 'failed') loadedAt = 0;
          })
          .catch((err: unknown) => {
            // The claim stays; it expires and the delivery is taken again.
            logger.error({ err, deliveryId: d.id, webhookId: webhook.id }, 'delivery attempt could not be recorded');
          })
          .finally(() => {
            started();
            inFlight.delete(d.id);
          });
        inFlight.set(d.id, p);
      };

      let markedAt = 0;
      for (;;) {
        ctx.heartbeat();
        const now = Date.now();
        if (now - markedAt >= POLLING_MARK_EVERY_MS) {
          await markLanePolling(db, input.webhookId, POLLING_MARK_SECONDS);
          markedAt = now;
        }
        const stopping = ctx.cancellationSignal.aborted || now - started >= ROUND_MS;
        if (!w || now - loadedAt >= SETTINGS_TTL_MS) {
          w = await getWebhook(db, input.webhookId);
          loadedAt = now;
          if (!w) break;
        }
        const s = rowSettings(w);
        let claimed = 0;
        if (!stopping && !held) {
          // Items may still wait after a webhook stopped batching: looked at once per round then.
          if (s.batching.mode !== 'none' || firstPass) {
            const b = await closeBatches(w, s);
            counters.batches += b.closed;
            batchNextAt = b.nextAt;
            if (b.closed > 0) lastWork = now;
          }
          firstPass = false;
          if (!w.enabled) {
            // Nothing more goes out this round: hold the queue, let what is in flight finish.
            await holdIfDisabled(w.id);
            await announceDisabled(w);
            held = true;
          } else {
            const limit = rateLimitFor(w, s, input.rateNextAt);
            const room = s.strictOrdering ? (inFlight.size === 0 ? 1 : 0) : s.concurrencyLimit - inFlight.size;
            // Claim no more than may start now; each still waits for its turn right before sending.
            const n = Math.min(room, limit ? limit.claimable() - pendingStarts : room);
            const rows = s.strictOrdering
              ? n > 0
                ? [await claimQueueHead(db, w.id, leaseMs)].filter((d) => d !== undefined)
                : []
              : await claimDueDeliveries(db, w.id, n, leaseMs);
            if (rows.length > 0) {
              // Sent with the settings as they are now (a rotated secret, a new URL): the claim
              // took only from an enabled webhook and says when its settings last changed.
              const fresh =
                rows[0]!.webhook_updated_at.getTime() === w.updated_at.getTime() ? w : await getWebhook(db, w.id);
              if (!fresh?.enabled) {
                await Promise.all(rows.map((d) => unclaimDelivery(db, d.id)));
                loadedAt = 0;
              } else {
                if (fresh !== w) loadedAt = Date.now();
                w = fresh;
                for (const d of rows) track(d, w, limit);
                claimed = rows.length;
              }
            }
          }
        }
        if (claimed > 0 || inFlight.size > 0) lastWork = Date.now();
        // A batch window closing within the linger is waited for here, to the millisecond,
        // rather than by ending the round and coming back on a durable timer.
        const windowSoon = batchNextAt !== null && batchNextAt - Date.now() <= LINGER_MS;
        if (inFlight.size === 0 && (stopping || held || (Date.now() - lastWork >= LINGER_MS && !windowSoon))) break;
        poll = claimed > 0 ? POLL_MIN_MS : Math.min(POLL_MAX_MS, poll * 2);
        const nap = batchNextAt === null ? poll : Math.max(1, Math.min(poll, batchNextAt - Date.now()));
        await Promise.race([...inFlight.values(), sleep(nap)]);
      }

      // Cleared before the last look at the queue below: a wake read while the mark stood
      // was skipped, and its delivery is committed by now, so that look finds it.
      await clearLanePolling(db, input.webhookId);
      if (!w) {
        await Promise.all(inFlight.values());
        return {
          exists: false,
          counters,
          nextDueAt: null,
          moreDue: false,
          queued: 0,
          inFlight: 0,
          held: 0,
          batchItemsWaiting: 0,
          enabled: false,
          idleMs: settings.laneIdleSeconds * 1000,
          maxRoundsPerRun: settings.laneMaxRoundsPerRun,
          rateNextAt: 0,
        };
      }
      // A disabled webhook's lane is not signalled for work that arrived during the round: hold it now.
      if (!w.enabled) await holdIfDisabled(w.id);
      const s = rowSettings(w);
      const [deliveryDue, counts] = await Promise.all([
        w.enabled ? nextDeliveryDue(db, w.id, s.strictOrdering) : Promise.resolve(null),
        laneCounts(db, w.id),
      ]);
      const due = [deliveryDue?.getTime(), batchNextAt].filter((t): t is number => typeof t === 'number');
      const nextDueAt = due.length > 0 ? Math.min(...due) : null;
      return {
        exists: true,
        counters,
        nextDueAt,
        moreDue: nextDueAt !== null && nextDueAt <= Date.now(),
        queued: counts.queued,
        inFlight: counts.inFlight,
        held: counts.held,
        batchItemsWaiting: counts.batchItemsWaiting,
        enabled: w.enabled,
        idleMs: settings.laneIdleSeconds * 1000,
        maxRoundsPerRun: settings.laneMaxRoundsPerRun,
        rateNextAt: limits.get(w.id)?.next ?? 0,
      };
    },
  };
}
