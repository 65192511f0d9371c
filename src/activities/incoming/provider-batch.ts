import { getEffect, putEffect } from '../../platform/effects/effect-ledger';
import { recordRerun } from '../../incoming/db/incoming-webhooks';
import { getIntegration } from '../../incoming/db/integrations';
import { withTransaction } from '../../platform/db/pool';
import {
  beginAttempts,
  finishAttempts,
  getProviderWebhooks,
  type AttemptResult,
  type ProviderWebhookRow,
} from '../../incoming/db/provider-webhooks';
import { getEntities } from '../../incoming/db/resource-data';
import { processResources } from '../../incoming/process';
import { resolveProvider } from '../../incoming/providers';
import type { BatchItem, ChunkItemResult, ResourceChunk } from '../../incoming/workflow-contract';
import { activityKey, executionNumber } from '../../platform/effects/activity-keys';
import { resourceDeps, rethrowRateLimit, type ProviderActivityDeps } from './provider-deps';

export interface PlanInput {
  integrationId: string;
  tenantId: string;
  items: BatchItem[];
}

export interface ChunkInput {
  integrationId: string;
  tenantId: string;
  chunk: ResourceChunk;
}

const eventTime = (w: ProviderWebhookRow) => w.event_at?.getTime() ?? w.received_at.getTime();

/** The delayed method's activities: plan a flush into provider-sized chunks, process one chunk. */
export function createProviderBatchActivities(deps: ProviderActivityDeps) {
  const { db, logger } = deps;
  return {
    /**
     * Groups a flush by entity type and packs distinct entities into chunks of the provider's
     * ids-per-call. Webhooks that look covered by newer data, and deletions, go into chunks
     * that need no download, so they never take a slot in a fetch.
     */
    async planInboundBatch(input: PlanInput): Promise<{ chunks: ResourceChunk[]; dropped: string[] }> {
      const integration = await getIntegration(db, input.integrationId);
      const ids = input.items.map((i) => i.webhookId);
      if (!integration || integration.provider === 'generic') return { chunks: [], dropped: ids };
      const { adapter, settings } = resolveProvider(integration);
      const rows = new Map((await getProviderWebhooks(db, ids)).map((r) => [r.id, r]));
      const dropped: string[] = [];
      const byType = new Map<string, Array<{ item: BatchItem; row: ProviderWebhookRow }>>();
      for (const item of input.items) {
        const row = rows.get(item.webhookId);
        // Only webhooks still waiting are processed: a duplicate signal must not process twice.
        if (!row || row.integration_id !== integration.id || !['queued', 'processing'].includes(row.status)) {
          dropped.push(item.webhookId);
          continue;
        }
        const type = row.entity_type ?? '';
        byType.set(type, [...(byType.get(type) ?? []), { item, row }]);
      }

      const chunks: ResourceChunk[] = [];
      for (const [entityType, entries] of byType) {
        const known = await getEntities(db, { integrationId: integration.id, tenantId: input.tenantId, entityType }, [
          ...new Set(entries.map((e) => e.row.entity_id ?? '')),
        ]);
        const noFetch: BatchItem[] = [];
        const fetchByEntity = new Map<string, BatchItem[]>();
        for (const { item, row } of entries) {
          const stored = known.get(row.entity_id ?? '');
          const covered =
            !item.fresh &&
            stored !== undefined &&
            stored.last_webhook_id !== row.id &&
            stored.resource_updated_at.getTime() - adapter.timePrecisionMs >= eventTime(row);
          if (covered || adapter.operation(row.event_type ?? '') === 'deleted') noFetch.push(item);
          else fetchByEntity.set(row.entity_id ?? '', [...(fetchByEntity.get(row.entity_id ?? '') ?? []), item]);
        }
        if (noFetch.length) chunks.push({ entityType, items: noFetch, noFetch: true });
        const entities = [...fetchByEntity.keys()];
        for (let i = 0; i < entities.length; i += settings.maxIdsPerCall) {
          const part = entities.slice(i, i + settings.maxIdsPerCall);
          chunks.push({ entityType, items: part.flatMap((e) => fetchByEntity.get(e) ?? []), noFetch: false });
        }
      }
      return { chunks, dropped };
    },

    /** One attempt for every webhook of a chunk: at most one provider call (per ids-per-call). */
    async processResourceChunk(input: ChunkInput): Promise<ChunkItemResult[]> {
      // A re-run after a lost completion returns what the first execution stored (see effects.ts).
      const key = activityKey();
      const tryNo = executionNumber();
      const done = await getEffect<ChunkItemResult[]>(db, key);
      if (done) {
        const message = `re-run (execution ${tryNo}): this chunk had already been processed but Temporal never heard back; returned its stored outcome, nothing repeated`;
        for (const r of done.result) {
          const item = input.chunk.items.find((i) => i.webhookId === r.webhookId);
          if (!item) continue;
          await recordRerun(db, r.webhookId, item.attempt, tryNo, {
            status: r.status === 'failed' ? 'failed' : 'succeeded',
            log: [{ at: new Date().toISOString(), message }],
          });
        }
        return done.result;
      }
      const integration = await getIntegration(db, input.integrationId);
      if (!integration) return [];
      const rows = new Map(
        (
          await getProviderWebhooks(
            db,
            input.chunk.items.map((i) => i.webhookId),
          )
        ).map((r) => [r.id, r]),
      );
      const items = input.chunk.items.filter((i) => rows.has(i.webhookId));
      const logs = new Map<string, Array<{ at: string; message: string }>>();
      const note = (id: string, message: string) => logs.get(id)?.push({ at: new Date().toISOString(), message });
      for (const item of items) {
        logs.set(item.webhookId, []);
        if (tryNo > 1) note(item.webhookId, `re-run (execution ${tryNo}): rate limit or an interrupted worker`);
        note(
          item.webhookId,
          `attempt ${item.attempt} of ${item.maxAttempts} started in a batch of ${items.length} ${input.chunk.entityType} webhook(s)`,
        );
      }
      await beginAttempts(db, items, tryNo);

      let outcomes;
      try {
        outcomes = await processResources(
          resourceDeps(deps, integration, input.tenantId),
          {
            integrationId: integration.id,
            provider: integration.provider,
            tenantId: input.tenantId,
            entityType: input.chunk.entityType,
          },
          items.map((i) => ({ webhook: rows.get(i.webhookId)!, attempt: i.attempt, fresh: i.fresh ?? false })),
          note,
        );
      } catch (err) {
        rethrowRateLimit(err);
        throw err;
      }

      const results: AttemptResult[] = items.map((item) => {
        const outcome = outcomes.get(item.webhookId) ?? {
          status: 'failed' as const,
          error: 'processing produced no outcome',
        };
        const log = logs.get(item.webhookId) ?? [];
        if (outcome.status !== 'failed') {
          log.push({
            at: new Date().toISOString(),
            message: outcome.status === 'stale' ? 'skipped as stale' : 'processed',
          });
          return {
            webhookId: item.webhookId,
            attempt: item.attempt,
            status: outcome.status,
            attemptStatus: 'succeeded',
            result: outcome.result,
            error: null,
            log,
            final: true,
          };
        }
        const final = item.attempt >= item.maxAttempts;
        log.push({
          at: new Date().toISOString(),
          message: final ? 'failed; no automatic attempts left' : 'failed; queued for another attempt',
        });
        return {
          webhookId: item.webhookId,
          attempt: item.attempt,
          status: final ? 'failed' : 'queued',
          attemptStatus: 'failed',
          result: null,
          error: outcome.error,
          log,
          final,
        };
      });
      const returned: ChunkItemResult[] = results.map((r) => ({
        webhookId: r.webhookId,
        status: r.attemptStatus === 'failed' ? 'failed' : (r.status as 'succeeded' | 'stale'),
        final: r.final,
      }));
      await withTransaction(db, async (c) => {
        await finishAttempts(c, results, tryNo);
        await putEffect(c, key, returned);
      });
      const failed = results.filter((r) => r.attemptStatus === 'failed').length;
      logger.info(
        { integrationId: integration.id, tenantId: input.tenantId, items: results.length, failed },
        'inbound batch chunk processed',
      );
      return returned;
    },
  };
}
