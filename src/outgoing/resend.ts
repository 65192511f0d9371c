import { getDelivery, reopenForResend, type DeliveryRow } from './db/deliveries';
import type { Db, Queryable } from '../platform/db/pool';
import { getWebhook } from './db/webhooks';
import { commitWork } from '../platform/ingress/ingress';
import { laneWakeJobs } from './lane-starter';
import type { OutgoingSettings } from './settings';

export interface ServiceDeps {
  db: Db;
  /** Wakes this process's intake starter after a commit. */
  wake: () => void;
  settings: OutgoingSettings;
}

/** Why a delivery could not be re-sent; `status` is the HTTP status the API answers with. */
export interface ResendRefusal {
  status: 404 | 409;
  code: string;
  message: string;
}

export type ResendOutcome = { ok: true; delivery: DeliveryRow } | { ok: false; refusal: ResendRefusal };

const refuse = (status: 404 | 409, code: string, message: string): ResendOutcome => ({
  ok: false,
  refusal: { status, code, message },
});

/**
 * Queues one finished delivery again in its webhook's lane, with the same `webhook-id`
 * (receivers deduplicate on it) and a fresh retry schedule. Lightweight-log deliveries kept no
 * body and cannot be re-sent. The lane is not woken here: `resendDeliveries` wakes each once.
 */
async function requeue(tx: Queryable, id: string, webhookId?: string): Promise<ResendOutcome> {
  const d = await getDelivery(tx, id);
  if (!d || (webhookId !== undefined && d.webhook_id !== webhookId)) {
    return refuse(404, 'delivery_not_found', `No delivery ${id}${webhookId ? ' for this webhook' : ''}`);
  }
  if (d.lightweight || d.payload === null) {
    return refuse(
      409,
      'lightweight_logs',
      'This delivery was made with lightweight logs: its payload was not kept, so it cannot be re-sent. Turn lightweight logs off for future deliveries to be re-sendable.',
    );
  }
  const w = await getWebhook(tx, d.webhook_id);
  if (!w?.enabled) {
    return refuse(
      409,
      'webhook_disabled',
      'The webhook is disabled; enable it first (its held deliveries are then sent).',
    );
  }
  const row = await reopenForResend(tx, id);
  if (!row) {
    return refuse(
      409,
      'delivery_in_progress',
      'This delivery is still queued or being attempted; wait for it to finish before re-sending.',
    );
  }
  return { ok: true, delivery: row };
}

/**
 * Re-sends deliveries through their webhooks' lanes; the re-queued rows and one wake per lane
 * commit together (intake), so a resend is never left queued with nothing to send it.
 * Outcomes in the order given.
 */
export async function resendDeliveries(
  deps: ServiceDeps,
  ids: string[],
  webhookId?: string,
): Promise<Array<{ id: string; outcome: ResendOutcome }>> {
  return commitWork(deps, async (tx) => {
    const out: Array<{ id: string; outcome: ResendOutcome }> = [];
    for (const id of ids) out.push({ id, outcome: await requeue(tx, id, webhookId) });
    const lanes = out.flatMap((o) => (o.outcome.ok ? [o.outcome.delivery.webhook_id] : []));
    return { result: out, jobs: laneWakeJobs(lanes) };
  });
}

export async function resendDelivery(deps: ServiceDeps, id: string, webhookId?: string): Promise<ResendOutcome> {
  const [first] = await resendDeliveries(deps, [id], webhookId);
  return first!.outcome;
}
