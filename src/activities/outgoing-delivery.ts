import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  beginAttempt,
  finishAttempt,
  getDelivery,
  holdDelivery,
  markDeliveryFailed,
  markDeliveryRetrying,
  markDeliverySucceeded,
  type AttemptOutcome,
  type DeliveryRow,
} from '../db/deliveries';
import { withTransaction } from '../db/pool';
import {
  countFailedDelivery,
  disableWebhookGone,
  getWebhook,
  resetFailureStreak,
  rowSettings,
  type WebhookRow,
} from '../db/webhooks';
import { BlockedDestinationError, safeRequest, type SafeResponse } from '../http/safe-request';
import { emitEvent } from '../outgoing/emit';
import { buildRequest, truncateUtf8 } from '../outgoing/request';
import { classifyResponse, nextRetryDelayMs, type AttemptVerdict } from '../outgoing/response';
import { openWebhookSecrets } from '../outgoing/secrets';
import { activeSecrets } from '../outgoing/signing';
import type { OutgoingActivityDeps } from './outgoing-deps';

/** What one attempt activity reports when it does not ask Temporal to retry it. */
export type AttemptResult =
  { status: 'succeeded' } | { status: 'held' } | { status: 'failed'; error: string; gone: boolean };

const missing = (deliveryId: string) =>
  ApplicationFailure.create({
    type: 'DeliveryMissingError',
    message: `delivery ${deliveryId} no longer exists`,
    nonRetryable: true,
  });

export function createDeliveryActivities(deps: OutgoingActivityDeps) {
  const { db, logger, settings } = deps;

  /** Holds the delivery if its webhook is (still) disabled; the share lock orders this against enabling. */
  const holdIfDisabled = (d: DeliveryRow) =>
    withTransaction(db, async (c) => {
      const w = await getWebhook(c, d.webhook_id, 'share');
      if (!w || w.enabled) return false;
      await holdDelivery(c, d.id);
      return true;
    });

  async function send(d: DeliveryRow & { payload: string }, w: WebhookRow) {
    const s = rowSettings(w);
    const secrets = openWebhookSecrets(deps.secrets, w.id, w.secrets_enc);
    const now = new Date();
    const { request, loggedHeaders } = buildRequest({
      deliveryId: d.id,
      method: s.method,
      url: s.url,
      auth: s.auth,
      authSecret: secrets.auth,
      signingSecrets: activeSecrets(secrets.signing, now),
      payload: d.payload,
      now,
    });
    const body = request.body === undefined ? null : truncateUtf8(request.body, settings.logMaxBytes);
    // Lightweight logs keep status and timing only: no headers, no bodies.
    const attempt = await beginAttempt(
      db,
      d.id,
      d.lightweight
        ? null
        : {
            method: request.method,
            url: request.url,
            headers: loggedHeaders,
            body: body?.text ?? null,
            bodyTruncated: !!body?.truncated,
          },
    );
    const started = performance.now();
    let res: SafeResponse | undefined;
    let error: Error | undefined;
    try {
      res = await safeRequest({
        ...request,
        timeoutMs: settings.requestTimeoutMs,
        maxResponseBytes: settings.logMaxBytes,
        policy: settings.policy,
      });
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    const verdict: AttemptVerdict | { kind: 'blocked'; reason: string } = res
      ? classifyResponse(res.status, res.headers, new Date())
      : error instanceof BlockedDestinationError
        ? { kind: 'blocked', reason: `refused before sending: ${error.message}` }
        : { kind: 'retry', reason: `request failed: ${error?.message ?? 'unknown error'}` };
    const outcome: AttemptOutcome = {
      status: verdict.kind === 'success' ? 'succeeded' : 'failed',
      durationMs: res?.durationMs ?? Math.round(performance.now() - started),
      responseStatus: res?.status ?? null,
      responseHeaders: res && !d.lightweight ? res.headers : null,
      responseBody: res && !d.lightweight ? res.body : null,
      responseTruncated: res && !d.lightweight ? res.bodyTruncated : null,
      error: verdict.kind === 'success' ? null : verdict.reason,
    };
    await finishAttempt(db, attempt.id, outcome);
    return { verdict, res, attempt: attempt.attempt };
  }

  return {
    /**
     * One delivery attempt. A retryable failure throws with `nextRetryDelay` from the
     * schedule (or the receiver's Retry-After), so Temporal's retry policy spaces the
     * attempts; success, 410, a refused destination and the last failure come back as values.
     */
    async attemptDelivery(deliveryId: string, retryScheduleMs: number[]): Promise<AttemptResult> {
      const d = await getDelivery(db, deliveryId);
      if (!d) throw missing(deliveryId);
      if (d.status === 'succeeded') return { status: 'succeeded' };
      if (d.status === 'failed') return { status: 'failed', error: d.last_error ?? 'failed', gone: false };
      const w = await getWebhook(db, d.webhook_id);
      if (!w) throw missing(deliveryId);
      if (!w.enabled && (await holdIfDisabled(d))) return { status: 'held' };
      if (d.payload === null) return { status: 'failed', error: 'the payload is no longer stored', gone: false };

      const { verdict, res } = await send({ ...d, payload: d.payload }, w);
      const temporalAttempt = Context.current().info.attempt;
      logger.info(
        { deliveryId, webhookId: w.id, attempt: temporalAttempt, status: res?.status, verdict: verdict.kind },
        'delivery attempt',
      );
      if (verdict.kind === 'success') {
        await markDeliverySucceeded(db, d.id, res!.status);
        await resetFailureStreak(db, w.id);
        return { status: 'succeeded' };
      }
      if (verdict.kind === 'gone') return { status: 'failed', error: verdict.reason, gone: true };
      if (verdict.kind === 'blocked') return { status: 'failed', error: verdict.reason, gone: false };
      const delay = nextRetryDelayMs(retryScheduleMs, temporalAttempt, verdict.retryAfterMs, settings.retryAfterMaxMs);
      if (delay === undefined) return { status: 'failed', error: verdict.reason, gone: false };
      await markDeliveryRetrying(db, d.id, {
        responseStatus: res?.status ?? null,
        error: verdict.reason,
        nextAttemptAt: new Date(Date.now() + delay),
      });
      throw ApplicationFailure.create({
        type: 'DeliveryAttemptFailed',
        message: verdict.reason,
        // Zero would mean "use the policy's backoff"; one millisecond is "now".
        nextRetryDelay: Math.max(1, delay),
      });
    },

    /**
     * Records a delivery's final failure once, counts it towards the webhook's auto-disable
     * threshold, and disables the webhook on 410. Returns whether the workflow should announce
     * a "Webhook disabled" event — asked again after a retry, the answer is the same.
     */
    async completeDelivery(
      deliveryId: string,
      failure: { error: string; gone: boolean },
    ): Promise<{ announce: boolean }> {
      const d = await getDelivery(db, deliveryId);
      if (!d) return { announce: false };
      await withTransaction(db, async (c) => {
        const webhookId = await markDeliveryFailed(c, deliveryId, failure.error);
        if (!webhookId) return;
        if (failure.gone) await disableWebhookGone(c, webhookId, deliveryId);
        await countFailedDelivery(c, webhookId, deliveryId);
      });
      const w = await getWebhook(db, d.webhook_id);
      return { announce: !!w && !w.enabled && w.disabled_by_delivery === deliveryId };
    },

    /** Emits "Webhook disabled" for the webhook a delivery disabled (idempotent by that pair). */
    async announceWebhookDisabled(webhookId: string, deliveryId: string): Promise<void> {
      const w = await getWebhook(db, webhookId);
      if (!w) return;
      logger.warn({ webhookId, reason: w.disabled_reason, failures: w.consecutive_failures }, 'webhook disabled');
      const ctx = Context.current();
      await emitEvent(
        { db, temporal: ctx.client, taskQueue: ctx.info.taskQueue },
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
          idempotencyKey: `webhook-disabled:${webhookId}:${deliveryId}`,
          source: 'switchyard',
        },
      );
    },
  };
}
