import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../db/pool';
import {
  beginAttempt,
  finishAttempt,
  getIncomingWebhook,
  setIncomingWebhookStatus,
  type IncomingWebhookRow,
} from '../db/incoming-webhooks';
import { getIntegration, type IntegrationRow } from '../db/integrations';
import type { DestinationPolicy } from '../http/safe-request';
import { processGenericWebhook } from '../integrations/generic/process';
import type { Logger } from '../logger';

export type ProcessOutcome = { ok: true; result: unknown } | { ok: false; error: string };

/** What a provider's processor gets: the stored webhook, its integration and a log to write to. */
export interface ProcessContext {
  webhook: IncomingWebhookRow;
  integration: IntegrationRow;
  log: (message: string) => void;
  http: { policy: DestinationPolicy; timeoutMs: number };
}

export interface InboundActivityDeps {
  db: Db;
  logger: Logger;
  http: { policy: DestinationPolicy; timeoutMs: number };
}

export function createInboundActivities({ db, logger, http }: InboundActivityDeps) {
  return {
    /** One business attempt: records it, runs the provider's processor, stores the outcome. */
    async processIncomingWebhook(webhookId: string, attempt: number, maxAttempts: number): Promise<ProcessOutcome> {
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
          outcome = await processGenericWebhook({ webhook, integration, log: note, http });
        } catch (err) {
          outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }

      if (outcome.ok) {
        note('processed');
        await finishAttempt(db, webhookId, attempt, { status: 'succeeded', log: entries });
        await setIncomingWebhookStatus(db, webhookId, { status: 'succeeded', result: outcome.result, processed: true });
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
