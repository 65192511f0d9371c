import type { ProcessContext, ProcessOutcome } from '../process';
import { safeRequest } from '../../platform/http/safe-request';

export interface GenericSettings {
  /** Optional: where processed payloads are relayed (POST, JSON). */
  forwardUrl?: string;
}

/**
 * The generic integration's processing: read the event out of the payload and, when a
 * forward URL is configured, relay it there. Any non-2xx answer counts as a failure.
 */
export async function processGenericWebhook(ctx: ProcessContext): Promise<ProcessOutcome> {
  const payload = JSON.parse(ctx.webhook.payload) as Record<string, unknown>;
  const settings = ctx.integration.settings as GenericSettings;
  const result: Record<string, unknown> = {
    eventType: ctx.webhook.event_type,
    entityId: ctx.webhook.entity_id,
    fields: Object.keys(payload).sort(),
  };
  ctx.log(`event ${ctx.webhook.event_type ?? '(none)'} for entity ${ctx.webhook.entity_id ?? '(none)'}`);
  if (settings.forwardUrl) {
    const url = settings.forwardUrl;
    // Through the effect ledger: recorded before the call, never repeated once answered; a call
    // whose answer was lost (the worker died) is re-sent with the same Idempotency-Key.
    const res = await ctx.sendOnce('forward', {
      target: `POST ${url}`,
      send: async (idempotencyKey) => {
        const r = await safeRequest({
          method: 'POST',
          url,
          headers: {
            'content-type': 'application/json',
            'x-switchyard-webhook-id': ctx.webhook.id,
            'idempotency-key': idempotencyKey,
          },
          body: ctx.webhook.payload,
          timeoutMs: ctx.http.timeoutMs,
          policy: ctx.http.policy,
        });
        ctx.log(`forward answered ${r.status} in ${r.durationMs} ms`);
        return { status: r.status };
      },
      delivered: (r) => r.status >= 200 && r.status < 300,
    });
    if (res.status < 200 || res.status >= 300) {
      return { ok: false, error: `forward URL answered ${res.status}` };
    }
    result['forwardStatus'] = res.status;
  }
  return { ok: true, result };
}
