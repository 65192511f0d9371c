import type { NewIntakeJob } from '../platform/intake/jobs';
import { getIntegration, type IntegrationRow } from './db/integrations';
import type { Queryable } from '../platform/db/pool';
import { claimManualRetry, getProviderWebhooks, type ProviderWebhookRow } from './db/provider-webhooks';
import { inboundBatchWorkflowId, inboundRetryWorkflowId } from './workflow-contract';
import { inboundBatchJob } from './batch-starter';
import type { InboundProcessingSettings } from './processing-methods';
import { inboundStartJob } from './webhook-starter';
import { commitWork, type IntakeDeps } from '../platform/ingress/ingress';

export interface RetryDeps extends Pick<IntakeDeps, 'db' | 'wake'> {
  processing: InboundProcessingSettings;
}

export type RetryOutcome =
  | { id: string; outcome: 'queued'; attempt: number; workflowId: string }
  | { id: string; outcome: 'not_found' }
  | { id: string; outcome: 'not_retryable'; status: string; reason: string };

const isProvider = (i: IntegrationRow) => i.provider === 'xero' || i.provider === 'quickbooks';
type Eligible = { row: ProviderWebhookRow; integration: IntegrationRow };
const groupKey = (e: Eligible) => `${e.integration.id}|${e.row.tenant_id ?? ''}`;

/**
 * Manual retry of failed webhooks: one more attempt each, always with freshly downloaded
 * resource data. A lone webhook gets its own workflow (`inbound:<integration>:<key>:retry-<n>`);
 * several webhooks of one Xero tenant or QuickBooks realm go to that tenant's batch workflow, so
 * a bulk retry after an outage costs a few provider calls instead of one per webhook. The claim
 * and the start's outbox row commit together, so a retry is never left `queued` with nothing
 * to start it.
 */
export async function retryWebhooks(deps: RetryDeps, ids: string[]): Promise<RetryOutcome[]> {
  return commitWork(deps, async (tx) => {
    const outcomes = new Map<string, RetryOutcome>();
    const eligible = await eligibleWebhooks(tx, ids, outcomes);
    const groupSize = new Map<string, number>();
    for (const e of eligible)
      if (isProvider(e.integration)) groupSize.set(groupKey(e), (groupSize.get(groupKey(e)) ?? 0) + 1);

    const jobs: NewIntakeJob[] = [];
    const batches = new Map<string, { integration: IntegrationRow; tenantId: string; rows: ProviderWebhookRow[] }>();
    for (const e of eligible) {
      const batched = isProvider(e.integration) && (groupSize.get(groupKey(e)) ?? 0) > 1;
      const claimed = await claimManualRetry(tx, e.row.id, (r) =>
        batched
          ? inboundBatchWorkflowId(r.integration_id, r.tenant_id ?? '')
          : inboundRetryWorkflowId(r.integration_id, r.delivery_key, r.manual_retries),
      );
      if (!claimed) {
        outcomes.set(e.row.id, {
          id: e.row.id,
          outcome: 'not_retryable',
          status: 'queued',
          reason: 'a retry is already under way',
        });
        continue;
      }
      const attempt = claimed.attempts_made + 1;
      if (batched) {
        const b = batches.get(groupKey(e)) ?? {
          integration: e.integration,
          tenantId: claimed.tenant_id ?? '',
          rows: [],
        };
        b.rows.push(claimed);
        batches.set(groupKey(e), b);
      } else {
        jobs.push(
          inboundStartJob(deps.processing, e.integration, claimed, {
            maxAttempts: attempt,
            firstAttempt: attempt,
            fresh: true,
          }),
        );
      }
      outcomes.set(e.row.id, { id: e.row.id, outcome: 'queued', attempt, workflowId: claimed.workflow_id });
    }
    for (const b of batches.values()) {
      const items = b.rows.map((r) => ({
        webhookId: r.id,
        attempt: r.attempts_made + 1,
        maxAttempts: r.attempts_made + 1,
        fresh: true,
      }));
      jobs.push(inboundBatchJob(deps.processing, b.integration, b.tenantId, items));
    }
    return { result: ids.map((id) => outcomes.get(id)!), jobs };
  });
}

async function eligibleWebhooks(
  tx: Queryable,
  ids: string[],
  outcomes: Map<string, RetryOutcome>,
): Promise<Eligible[]> {
  const rows = new Map((await getProviderWebhooks(tx, ids)).map((r) => [r.id, r]));
  const integrations = new Map<string, IntegrationRow | undefined>();
  const eligible: Eligible[] = [];
  for (const id of new Set(ids)) {
    const row = rows.get(id);
    if (row && !integrations.has(row.integration_id))
      integrations.set(row.integration_id, await getIntegration(tx, row.integration_id));
    const integration = row ? integrations.get(row.integration_id) : undefined;
    if (!row || !integration) outcomes.set(id, { id, outcome: 'not_found' });
    else if (row.status !== 'failed') {
      const reason = `only failed webhooks can be retried; this one is ${row.status}`;
      outcomes.set(id, { id, outcome: 'not_retryable', status: row.status, reason });
    } else if (!integration.enabled) {
      outcomes.set(id, { id, outcome: 'not_retryable', status: row.status, reason: 'the integration is disabled' });
    } else eligible.push({ row, integration });
  }
  return eligible;
}
