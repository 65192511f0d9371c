import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/activity';
import { getEffect, putEffect } from '../../platform/effects/effect-ledger';
import { withTransaction, type Db } from '../../platform/db/pool';
import {
  beginAttempt,
  finishAttempt,
  getIncomingWebhook,
  recordRerun,
  saveAttemptLog,
  setIncomingWebhookStatus,
} from '../../incoming/db/incoming-webhooks';
import type { CrashPoint } from '../../platform/config';
import type { DestinationPolicy } from '../../platform/http/safe-request';
import { processGenericWebhook } from '../../incoming/generic/process';
import { activityKey, describeError, executionNumber, isDataError } from '../../platform/effects/activity-keys';
import { getIntegration } from '../../incoming/db/integrations';
import { processResources, type ProcessContext, type ProcessOutcome } from '../../incoming/process';
import type { ProviderWebhookRow } from '../../incoming/db/provider-webhooks';
import { TokenRefreshError } from '../../incoming/oauth-tokens';
import { resourceDeps, rethrowRateLimit, type ProviderActivityDeps } from './provider-deps';
import { createSendOnce } from '../../platform/effects/send-once';
import type { Logger } from '../../platform/logger';

// The processor contract lives with the integrations, which must not depend on activities.
export type { ProcessContext, ProcessOutcome } from '../../incoming/process';

export interface InboundActivityDeps {
  db: Db;
  logger: Logger;
  http: { policy: DestinationPolicy; timeoutMs: number };
  /** Xero / QuickBooks processing; without it only generic webhooks can be processed. */
  providers?: ProviderActivityDeps;
  /**
   * Test only: kill the worker right after an attempt commits, before Temporal hears of it
   * (`true` / `attempt`), or right after a forward's answer, before it is recorded (`forward`).
   */
  crashAfterCommit?: boolean | CrashPoint;
}

type LogEntry = { at: string; message: string };

/** Kills this worker (SIGKILL) so the completion of a committed attempt is lost: crash tests only. */
export function crashForTest(logger: Logger, what: string): void {
  logger.warn({ what }, 'test hook: killing the worker after commit, before completing the activity');
  // Written synchronously: the asynchronous logger would lose the line with the process.
  fs.writeSync(2, `test hook: killing the worker after commit (${what})\n`);
  process.kill(process.pid, 'SIGKILL');
}

export function createInboundActivities({ db, logger, http, providers, crashAfterCommit }: InboundActivityDeps) {
  const crashPoint = crashAfterCommit === true ? 'attempt' : crashAfterCommit || undefined;
  return {
    /**
     * One business attempt: records it, runs the provider's processor, stores the outcome.
     * Exactly-once under re-execution: the outcome is stored with the status in one
     * transaction under the activity's key, so a re-run after a lost completion returns it
     * (recorded as a re-run) and never repeats a forward, an event or a provider call. A forward
     * goes through the effect ledger (send-once.ts): a worker killed between its answer and
     * this store makes the re-run re-send it with the same Idempotency-Key, never a new one.
     */
    async processIncomingWebhook(
      webhookId: string,
      attempt: number,
      maxAttempts: number,
      options: { fresh?: boolean } = {},
    ): Promise<ProcessOutcome> {
      const key = activityKey();
      const execution = executionNumber();
      const entries: LogEntry[] = [];
      const note = (message: string) => entries.push({ at: new Date().toISOString(), message });

      const done = await getEffect<ProcessOutcome>(db, key);
      if (done) {
        note(
          `re-run (execution ${execution}): this attempt had already finished but Temporal never heard back; returned its stored outcome, nothing repeated`,
        );
        await recordRerun(db, webhookId, attempt, execution, {
          status: done.result.ok ? 'succeeded' : 'failed',
          error: done.result.ok ? null : done.result.error,
          log: entries,
        });
        logger.info({ webhookId, attempt, execution }, 'incoming webhook attempt re-run returned the stored outcome');
        return done.result;
      }

      const webhook = await getIncomingWebhook(db, webhookId);
      if (!webhook) {
        throw ApplicationFailure.create({
          type: 'IncomingWebhookMissingError',
          message: `incoming webhook ${webhookId} no longer exists`,
          nonRetryable: true,
        });
      }
      await beginAttempt(db, webhookId, attempt, execution);
      if (execution > 1) note(`re-run (execution ${execution}): the previous execution of this attempt did not finish`);
      note(`attempt ${attempt} of ${maxAttempts} started`);

      const sendOnce = createSendOnce({
        db,
        attempt,
        note,
        checkpoint: () => saveAttemptLog(db, webhookId, attempt, execution, entries),
        ...(crashPoint === 'forward' && execution === 1
          ? {
              afterAnswer: (step: string) => crashForTest(logger, `${step} of ${webhookId}, answered but not recorded`),
            }
          : {}),
      });

      const integration = await getIntegration(db, webhook.integration_id);
      let outcome: ProcessOutcome;
      if (!integration) {
        outcome = { ok: false, error: 'the integration was deleted' };
      } else {
        try {
          const ctx = { webhook, integration, log: note, http, sendOnce };
          if (integration.provider === 'generic') outcome = await processGenericWebhook(ctx);
          else if (providers) outcome = await processProviderWebhook(providers, ctx, attempt, options.fresh ?? false);
          else outcome = { ok: false, error: `this worker cannot process ${integration.provider} webhooks` };
        } catch (err) {
          // Retryable activity failures (a provider's rate limit) wait without spending the attempt.
          if (err instanceof ApplicationFailure) throw err;
          outcome = isDataError(err)
            ? { ok: false, error: `the webhook's data cannot be processed: ${describeError(err)}`, final: true }
            : { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }

      const store = (o: ProcessOutcome) =>
        withTransaction(db, async (c) => {
          if (o.ok) {
            note(o.status === 'stale' ? 'skipped as stale' : 'processed');
            await finishAttempt(c, webhookId, attempt, { status: 'succeeded', log: entries }, execution);
            await setIncomingWebhookStatus(c, webhookId, {
              status: o.status ?? 'succeeded',
              result: o.result,
              processed: true,
            });
          } else {
            const final = o.final === true || attempt >= maxAttempts;
            note(`failed: ${o.error}`);
            await finishAttempt(c, webhookId, attempt, { status: 'failed', error: o.error, log: entries }, execution);
            await setIncomingWebhookStatus(c, webhookId, {
              status: final ? 'failed' : 'queued',
              error: o.error,
              processed: final,
            });
          }
          await putEffect(c, key, o);
        });
      try {
        await store(outcome);
      } catch (err) {
        // Poison data (e.g. NUL in a key: 22P05) can never be stored; retrying would only repeat
        // the work. End the webhook as failed with what went wrong, without the offending data.
        if (!isDataError(err)) throw err;
        entries.pop();
        outcome = { ok: false, error: `the processing result cannot be stored: ${describeError(err)}`, final: true };
        await store(outcome);
      }
      logger.info({ webhookId, attempt, execution, ok: outcome.ok }, 'incoming webhook attempt finished');
      if (crashPoint === 'attempt' && execution === 1) crashForTest(logger, `processIncomingWebhook ${webhookId}`);
      return outcome;
    },

    /** Ends a webhook whose processing could not run to completion (infrastructure retries exhausted). */
    async failIncomingWebhook(webhookId: string, error: string): Promise<void> {
      await setIncomingWebhookStatus(db, webhookId, { status: 'failed', error, processed: true });
    },
  };
}

/**
 * The immediate methods' processor for a Xero or QuickBooks webhook: the shared resource
 * processing for a single webhook. A rate limit leaves as a retryable activity failure.
 */
export async function processProviderWebhook(
  deps: ProviderActivityDeps,
  ctx: ProcessContext,
  attempt: number,
  fresh: boolean,
): Promise<ProcessOutcome> {
  const webhook = ctx.webhook as ProviderWebhookRow;
  if (!webhook.tenant_id || !webhook.entity_type || !webhook.entity_id) {
    return { ok: false, error: 'the webhook has no tenant or entity to process' };
  }
  try {
    const outcomes = await processResources(
      resourceDeps(deps, ctx.integration, webhook.tenant_id),
      {
        integrationId: ctx.integration.id,
        provider: ctx.integration.provider,
        tenantId: webhook.tenant_id,
        entityType: webhook.entity_type,
      },
      [{ webhook, attempt, fresh }],
      (_id, message) => ctx.log(message),
    );
    const outcome = outcomes.get(webhook.id);
    if (!outcome) return { ok: false, error: 'processing produced no outcome' };
    return outcome.status === 'failed'
      ? { ok: false, error: outcome.error }
      : { ok: true, status: outcome.status, result: outcome.result };
  } catch (err) {
    rethrowRateLimit(err);
    if (err instanceof TokenRefreshError) return { ok: false, error: `no access token: ${err.message}` };
    throw err;
  }
}
