import { getIntegration, type IntegrationRow } from '../db/integrations';
import type { Db } from '../db/pool';
import { claimManualRetry, getProviderWebhooks, type ProviderWebhookRow } from '../db/provider-webhooks';
import { setIncomingWebhookStatus } from '../db/incoming-webhooks';
import { inboundBatchWorkflowId, inboundRetryWorkflowId } from '../shared/inbound-batch';
import { signalBatchWorkflow, startWebhookWorkflow, type InboundStartDeps } from './inbound-start';

export interface RetryDeps extends InboundStartDeps {
  db: Db;
}

export type RetryOutcome =
  | { id: string; outcome: 'queued'; attempt: number; workflowId: string }
  | { id: string; outcome: 'not_found' }
  | { id: string; outcome: 'not_retryable'; status: string; reason: string };

const isProvider = (i: IntegrationRow) => i.provider === 'xero' || i.provider === 'quickbooks';

/**
 * Manual retry of failed webhooks: one more attempt each, always with freshly downloaded
 * resource data. A lone webhook gets its own workflow (`inbound:<integration>:<key>:retry-<n>`)
 * so the answer comes quickly; several webhooks of one Xero tenant or QuickBooks realm go to
 * that tenant's batch workflow, so a bulk retry after an outage costs a few provider calls
 * instead of one per webhook.
 */
export async function retryWebhooks(deps: RetryDeps, ids: string[]): Promise<RetryOutcome[]> {
  const rows = new Map((await getProviderWebhooks(deps.db, ids)).map((r) => [r.id, r]));
  const integrations = new Map<string, IntegrationRow | undefined>();
  const integrationOf = async (id: string) => {
    if (!integrations.has(id)) integrations.set(id, await getIntegration(deps.db, id));
    return integrations.get(id);
  };

  const outcomes = new Map<string, RetryOutcome>();
  const eligible: Array<{ row: ProviderWebhookRow; integration: IntegrationRow }> = [];
  for (const id of new Set(ids)) {
    const row = rows.get(id);
    const integration = row ? await integrationOf(row.integration_id) : undefined;
    if (!row || !integration) outcomes.set(id, { id, outcome: 'not_found' });
    else if (row.status !== 'failed') {
      outcomes.set(id, { id, outcome: 'not_retryable', status: row.status, reason: `only failed webhooks can be retried; this one is ${row.status}` });
    } else if (!integration.enabled) {
      outcomes.set(id, { id, outcome: 'not_retryable', status: row.status, reason: 'the integration is disabled' });
    } else eligible.push({ row, integration });
  }

  const groupKey = (e: { row: ProviderWebhookRow; integration: IntegrationRow }) => `${e.integration.id}|${e.row.tenant_id ?? ''}`;
  const groupSize = new Map<string, number>();
  for (const e of eligible) if (isProvider(e.integration)) groupSize.set(groupKey(e), (groupSize.get(groupKey(e)) ?? 0) + 1);

  const batches = new Map<string, { integration: IntegrationRow; tenantId: string; rows: ProviderWebhookRow[] }>();
  for (const e of eligible) {
    const batched = isProvider(e.integration) && (groupSize.get(groupKey(e)) ?? 0) > 1;
    const claimed = await claimManualRetry(deps.db, e.row.id, (r) =>
      batched ? inboundBatchWorkflowId(r.integration_id, r.tenant_id ?? '') : inboundRetryWorkflowId(r.integration_id, r.delivery_key, r.manual_retries),
    );
    if (!claimed) {
      outcomes.set(e.row.id, { id: e.row.id, outcome: 'not_retryable', status: 'queued', reason: 'a retry is already under way' });
      continue;
    }
    const attempt = claimed.attempts_made + 1;
    if (batched) {
      const b = batches.get(groupKey(e)) ?? { integration: e.integration, tenantId: claimed.tenant_id ?? '', rows: [] };
      b.rows.push(claimed);
      batches.set(groupKey(e), b);
    } else {
      await guarded(deps, [claimed], () =>
        startWebhookWorkflow(deps, e.integration, claimed, { maxAttempts: attempt, firstAttempt: attempt, fresh: true }),
      );
    }
    outcomes.set(e.row.id, { id: e.row.id, outcome: 'queued', attempt, workflowId: claimed.workflow_id });
  }

  for (const b of batches.values()) {
    const items = b.rows.map((r) => ({ webhookId: r.id, attempt: r.attempts_made + 1, maxAttempts: r.attempts_made + 1, fresh: true }));
    await guarded(deps, b.rows, () => signalBatchWorkflow(deps, b.integration, b.tenantId, items));
  }
  return ids.map((id) => outcomes.get(id)!);
}

// A retry that could not be handed to Temporal must not leave the webhook "queued" forever.
async function guarded(deps: RetryDeps, rows: ProviderWebhookRow[], start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (err) {
    for (const r of rows) {
      await setIncomingWebhookStatus(deps.db, r.id, { status: 'failed', error: `the retry could not be started: ${(err as Error).message}` });
    }
    throw err;
  }
}
