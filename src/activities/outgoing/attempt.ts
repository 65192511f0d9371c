import {
  beginAttempt,
  finishAttempt,
  markDeliveryFailed,
  markDeliveryRetrying,
  recordDeliverySuccess,
  type AttemptOutcome,
  type DeliveryRow,
} from '../../outgoing/db/deliveries';
import { submitAttemptStart, submitAttemptSuccess } from '../../outgoing/attempt-log';
import { withTransaction } from '../../platform/db/pool';
import { countFailedDelivery, disableWebhookGone, rowSettings, type WebhookRow } from '../../outgoing/db/webhooks';
import { BlockedDestinationError, safeRequest, type SafeResponse } from '../../platform/http/safe-request';
import { buildRequest, truncateUtf8 } from '../../outgoing/request';
import { classifyResponse, nextRetryDelayMs, type AttemptVerdict } from '../../outgoing/response';
import { openWebhookSecrets } from '../../outgoing/secrets';
import { activeSecrets } from '../../platform/security/webhook-signing';
import type { OutgoingActivityDeps } from './deps';

/** How one attempt ended for the lane's counters. */
export interface AttemptReport {
  result: 'succeeded' | 'retrying' | 'failed';
  /** The attempt re-sent a message whose previous answer was lost. */
  afterLostResponse: boolean;
  /** This final failure disabled the webhook (410, or the failure streak reached its threshold). */
  disabledWebhook: boolean;
}

type Verdict = AttemptVerdict | { kind: 'blocked'; reason: string };

/**
 * Sends one claimed delivery and records it: the attempt log, and in the same transaction the
 * delivery's new status (succeeded; retrying at the schedule's next step or the receiver's
 * Retry-After; or failed, counting towards auto-disable and disabling on 410).
 */
export function createAttempter(deps: OutgoingActivityDeps) {
  const { db, logger, settings } = deps;

  async function finalFailure(
    d: DeliveryRow,
    o: { error: string; gone: boolean; responseStatus: number | null },
    logged?: { attemptId: string; outcome: AttemptOutcome },
  ) {
    return withTransaction(db, async (c) => {
      if (logged) await finishAttempt(c, logged.attemptId, logged.outcome);
      const webhookId = await markDeliveryFailed(c, d.id, { error: o.error, responseStatus: o.responseStatus });
      if (!webhookId) return false;
      const gone = o.gone && (await disableWebhookGone(c, webhookId, d.id));
      const tripped = await countFailedDelivery(c, webhookId, d.id);
      return gone || tripped;
    });
  }

  /** `beforeSend` runs right before the request goes out (the webhook's rate limit waits there). */
  return async function attempt(
    d: DeliveryRow,
    w: WebhookRow,
    beforeSend?: () => Promise<void>,
  ): Promise<AttemptReport> {
    if (d.payload === null) {
      const disabled = await finalFailure(d, {
        error: 'the payload is no longer stored',
        gone: false,
        responseStatus: null,
      });
      return { result: 'failed', afterLostResponse: false, disabledWebhook: disabled };
    }
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
    // The attempt starts when its turn comes, so its logged start is when it was sent.
    await beforeSend?.();
    const sentAt = new Date();
    // Lightweight logs keep status and timing only: no headers, no bodies.
    const requestLog = d.lightweight
      ? null
      : {
          method: request.method,
          url: request.url,
          headers: loggedHeaders,
          body: body?.text ?? null,
          bodyTruncated: !!body?.truncated,
        };
    // Opened together with the lane's other attempts starting now (group commit); alone when
    // that statement could not open it.
    const begun =
      (await submitAttemptStart(db, { deliveryId: d.id, request: requestLog, startedAt: sentAt })) ??
      (await beginAttempt(db, d.id, requestLog, sentAt));
    const started = performance.now();
    let res: SafeResponse | undefined;
    let error: Error | undefined;
    try {
      res = await safeRequest({
        ...request,
        timeoutMs: settings.requestTimeoutMs,
        maxResponseBytes: settings.logMaxBytes,
        policy: settings.policy,
        keepAlive: true,
      });
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    const verdict: Verdict = res
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
    logger.debug(
      { deliveryId: d.id, webhookId: w.id, attempt: begun.attempt, status: res?.status, verdict: verdict.kind },
      'delivery attempt',
    );
    const lost = begun.afterLostResponse;
    if (verdict.kind === 'success') {
      // One transaction: a crash cannot leave a logged success on a delivery still queued.
      const success = { attemptId: begun.id, deliveryId: d.id, webhookId: w.id, outcome };
      if (!(await submitAttemptSuccess(db, success))) await recordDeliverySuccess(db, success);
      return { result: 'succeeded', afterLostResponse: lost, disabledWebhook: false };
    }
    const delay =
      verdict.kind === 'retry'
        ? nextRetryDelayMs(settings.retryScheduleMs, begun.round, verdict.retryAfterMs, settings.retryAfterMaxMs)
        : undefined;
    if (delay !== undefined) {
      await withTransaction(db, async (c) => {
        await finishAttempt(c, begun.id, outcome);
        await markDeliveryRetrying(c, d.id, {
          responseStatus: res?.status ?? null,
          error: verdict.reason,
          nextAttemptAt: new Date(Date.now() + delay),
        });
      });
      return { result: 'retrying', afterLostResponse: lost, disabledWebhook: false };
    }
    const disabled = await finalFailure(
      d,
      { error: verdict.reason, gone: verdict.kind === 'gone', responseStatus: res?.status ?? null },
      { attemptId: begun.id, outcome },
    );
    logger.warn({ deliveryId: d.id, webhookId: w.id, error: verdict.reason }, 'delivery failed');
    return { result: 'failed', afterLostResponse: lost, disabledWebhook: disabled };
  };
}
