import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../db/pool';
import { beginAttempt, finishAttempt, getIncomingWebhook, setIncomingWebhookStatus } from '../db/incoming-webhooks';
import { getIntegration } from '../db/integrations';
import type { DestinationPolicy } from '../http/safe-request';
import { processGenericWebhook } from '../integrations/generic/process';
import type { ProcessOutcome } from '../integrations/process';
import type { ProviderActivityDeps } from './provider-deps';
import { processProviderWebhook } from './provider-webhook';
import type { Logger } from '../logger';

// The processor contract lives with the integrations, which must not depend on activities.
export type { ProcessContext, ProcessOutcome } from '../integrations/process';

export interface InboundActivityDeps {
  db: Db;
  logger: Logger;
  http: { policy: DestinationPolicy; timeoutMs: number };
  /** Xero / QuickBooks processing; without it only generic webhooks can be processed. */
  providers?: ProviderActivityDeps;
}

export function createInboundActivities({ db, logger, http, providers }: InboundActivityDeps) {
  return {
    /** One business attempt: records it, runs the provider's processor, stores the outcome. */
    async processIncomingWebhook(
      webhookId: string,
      attempt: number,
      maxAttempts: number,
      options: { fresh?: boolean } = {},
    ): Promise<ProcessOutcome> {
      const webhook = await getIncomingWebhook(db, webhookId);
      if (!webhook) {
        throw ApplicationFailure.create({
          type: 'IncomingWebhookMissingError',
          message: `incoming webhook ${webhookId} no longer exists`,
          nonRetryable: true,
        });
      }
      const entries: Array<{ at: string; message: string }> = [];
      const note = (message: string) => entries.push({ at: new Date().toISOString(), message });
      await beginAttempt(db, webhookId, attempt);
      const deliveryAttempt = Context.current().info.attempt;
      if (deliveryAttempt > 1) note(`resumed: the previous run of this attempt did not finish (try ${deliveryAttempt})`);
      note(`attempt ${attempt} of ${maxAttempts} started`);

      const integration = await getIntegration(db, webhook.integration_id);
      let outcome: ProcessOutcome;
      if (!integration) {
        outcome = { ok: false, error: 'the integration was deleted' };
      } else {
        try {
          const ctx = { webhook, integration, log: note, http };
          if (integration.provider === 'generic') outcome = await processGenericWebhook(ctx);
          else if (providers) outcome = await processProviderWebhook(providers, ctx, attempt, options.fresh ?? false);
          else outcome = { ok: false, error: `this worker cannot process ${integration.provider} webhooks` };
        } catch (err) {
          // Retryable activity failures (a provider's rate limit) wait without spending the attempt.
          if (err instanceof ApplicationFailure) throw err;
          outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }

      if (outcome.ok) {
        note(outcome.status === 'stale' ? 'skipped as stale' : 'processed');
        await finishAttempt(db, webhookId, attempt, { status: 'succeeded', log: entries });
        await setIncomingWebhookStatus(db, webhookId, {
          status: outcome.status ?? 'succeeded',
          result: outcome.result,
          processed: true,
        });
      } else {
        note(`failed: ${outcome.error}`);
        await finishAttempt(db, webhookId, attempt, { status: 'failed', error: outcome.error, log: entries });
        const final = attempt >= maxAttempts;
        await setIncomingWebhookStatus(db, webhookId, {
          status: final ? 'failed' : 'queued',
          error: outcome.error,
          processed: final,
        });
      }
      logger.info({ webhookId, attempt, ok: outcome.ok }, 'incoming webhook attempt finished');
      return outcome;
    },

  };
}
