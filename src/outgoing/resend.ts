import { getDelivery, heldDeliveries, reopenDelivery, type DeliveryRow } from '../db/deliveries';
import type { Queryable } from '../db/pool';
import { getWebhook } from '../db/webhooks';
import { startDeliveryWorkflow, type StartDeps } from './start';

export interface ServiceDeps extends StartDeps {
  db: Queryable;
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
 * Re-sends one delivery with the same `webhook-id` (receivers deduplicate on it) and a fresh
 * retry schedule. Lightweight-log deliveries kept no body and cannot be re-sent.
 */
export async function resendDelivery(deps: ServiceDeps, id: string, webhookId?: string): Promise<ResendOutcome> {
  const d = await getDelivery(deps.db, id);
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
  const w = await getWebhook(deps.db, d.webhook_id);
  if (!w?.enabled) {
    return refuse(
      409,
      'webhook_disabled',
      'The webhook is disabled; enable it first (its held deliveries are then sent).',
    );
  }
  // A finished delivery is reopened before its new run starts, so the run sees it as pending.
  const row = d.status === 'succeeded' || d.status === 'failed' ? ((await reopenDelivery(deps.db, id, true)) ?? d) : d;
  const started = await startDeliveryWorkflow(deps, row, 'again');
  if (started === 'running') {
    return refuse(
      409,
      'delivery_in_progress',
      'This delivery is still being attempted; wait for it to finish before re-sending.',
    );
  }
  return { ok: true, delivery: row };
}

/**
 * Sends the deliveries held while the webhook was disabled. Safe to repeat: a held delivery
 * whose run is already going is left to it.
 */
export async function releaseHeldDeliveries(deps: ServiceDeps, webhookId: string): Promise<number> {
  const held = await heldDeliveries(deps.db, webhookId);
  let released = 0;
  // A few at a time: a webhook disabled for long may have many held deliveries.
  for (let i = 0; i < held.length; i += 20) {
    const results = await Promise.all(held.slice(i, i + 20).map((d) => startDeliveryWorkflow(deps, d, 'again')));
    released += results.filter((r) => r === 'started').length;
  }
  return released;
}
