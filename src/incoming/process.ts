import type { Db } from '../platform/db/pool';
import type { ProviderWebhookRow } from './db/provider-webhooks';
import {
  getEntities,
  insertResourceData,
  upsertEntitiesIfNewer,
  type EntityVersion,
  type NewResourceData,
} from './db/resource-data';
import type { EventInput } from '../outgoing';
import {
  ProviderRateLimitedError,
  type EntityOperation,
  type ProviderAdapter,
  type ProviderCaller,
} from './provider-types';
import type { IncomingWebhookRow } from './db/incoming-webhooks';
import type { IntegrationRow } from './db/integrations';
import type { DestinationPolicy } from '../platform/http/safe-request';
import type { OutboundCall, SendOnce } from '../platform/effects/send-once';

export type { OutboundCall, SendOnce };

// The processor contract: what a processor (generic or provider) gets and answers.

/**
 * A processing result; `stale` means skipped because newer data was already processed. A
 * `final` failure (bad data) ends the webhook now: no further attempt could succeed.
 */
export type ProcessOutcome =
  { ok: true; result: unknown; status?: 'succeeded' | 'stale' } | { ok: false; error: string; final?: boolean };

/** What a provider's processor gets: the stored webhook, its integration and a log to write to. */
export interface ProcessContext {
  webhook: IncomingWebhookRow;
  integration: IntegrationRow;
  log: (message: string) => void;
  http: { policy: DestinationPolicy; timeoutMs: number };
  sendOnce: SendOnce;
}

/**
 * The heart of provider processing, shared by the immediate methods (one webhook) and the
 * delayed one (a chunk of webhooks for one tenant and entity type): skip webhooks already
 * covered by newer data, download the rest in as few calls as the provider allows, keep what
 * was downloaded ("resource data"), upsert each entity when the data is newer, and emit the
 * domain event.
 */

export interface ResourceItem {
  webhook: ProviderWebhookRow;
  attempt: number;
  /** Manual retries always download fresh data. */
  fresh: boolean;
}

export type ResourceOutcome =
  { status: 'succeeded' | 'stale'; result: Record<string, unknown> } | { status: 'failed'; error: string };

export interface ProcessResourcesDeps {
  db: Db;
  adapter: ProviderAdapter;
  caller: ProviderCaller;
  maxIdsPerCall: number;
  emit: (event: EventInput) => Promise<{ id: string; duplicate: boolean }>;
}

export interface ResourceScope {
  integrationId: string;
  provider: string;
  tenantId: string;
  entityType: string;
}

type Log = (webhookId: string, message: string) => void;

// Emitting starts an outgoing dispatch workflow per event; a few at a time keeps a chunk quick
// without flooding the connection pool.
const EMIT_CONCURRENCY = 8;

const eventTime = (w: ProviderWebhookRow) => w.event_at?.getTime() ?? w.received_at.getTime();
const entityOf = (i: ResourceItem) => i.webhook.entity_id ?? '';

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** A winning webhook and the entity version it brings; older webhooks for the entity ride along. */
interface Decision {
  winner: ResourceItem;
  older: ResourceItem[];
  version: EntityVersion;
  resource: Record<string, unknown> | null;
  versionLabel?: string;
}

/** Processes webhooks of one scope; throws only ProviderRateLimitedError (the whole chunk waits) and bugs. */
export async function processResources(
  deps: ProcessResourcesDeps,
  scope: ResourceScope,
  items: ResourceItem[],
  log: Log,
): Promise<Map<string, ResourceOutcome>> {
  const { db, adapter } = deps;
  const outcomes = new Map<string, ResourceOutcome>();
  const key = { integrationId: scope.integrationId, tenantId: scope.tenantId, entityType: scope.entityType };
  const known = await getEntities(db, key, [...new Set(items.map(entityOf))]);

  // 1. Already covered: the stored entity came from a version at least as new as the event.
  //    A provider with coarse timestamps (QuickBooks: seconds) must be a whole tick ahead.
  const pending: ResourceItem[] = [];
  for (const item of items) {
    const stored = known.get(entityOf(item));
    const covered =
      !item.fresh &&
      stored !== undefined &&
      stored.last_webhook_id !== item.webhook.id &&
      stored.resource_updated_at.getTime() - adapter.timePrecisionMs >= eventTime(item.webhook);
    if (!covered) {
      pending.push(item);
      continue;
    }
    log(
      item.webhook.id,
      `stale: the entity was already processed from data updated ${stored.resource_updated_at.toISOString()}, after this event (${new Date(eventTime(item.webhook)).toISOString()}); nothing downloaded`,
    );
    outcomes.set(item.webhook.id, {
      status: 'stale',
      result: {
        stale: true,
        entityId: entityOf(item),
        coveredBy: stored.last_webhook_id,
        coveredVersionAt: stored.resource_updated_at,
      },
    });
  }

  const isDeletion = (i: ResourceItem) => adapter.operation(i.webhook.event_type ?? '') === 'deleted';
  const decisions: Decision[] = [];

  // 2. Deletions cannot be downloaded: the event itself is the new version (the newest per entity).
  for (const [id, group] of groupByEntity(pending.filter(isDeletion))) {
    const [winner, ...older] = group as [ResourceItem, ...ResourceItem[]];
    const tombstone = adapter.tombstone?.(winner.webhook.payload) ?? null;
    decisions.push({
      winner,
      older,
      resource: tombstone,
      version: {
        entityId: id,
        data: tombstone,
        deleted: true,
        updatedAt: new Date(eventTime(winner.webhook)),
        seq: Number.MAX_SAFE_INTEGER,
        downloadedAt: new Date(),
        webhookId: winner.webhook.id,
      },
    });
  }

  // 3. Download the rest, one call per `maxIdsPerCall` distinct entities.
  const toFetch = pending.filter((i) => !isDeletion(i));
  const fetched = await download(deps, scope, toFetch, log);
  const downloadedAt = new Date();

  // 4. Per entity: the newest event wins; older ones in the same batch are superseded.
  const resourceRows: NewResourceData[] = [];
  for (const [id, group] of groupByEntity(toFetch)) {
    const resource = fetched.resources.get(id.toLowerCase());
    if (!resource) {
      const error =
        fetched.errors.get(id) ??
        `${scope.entityType} ${id} was not returned by the provider (deleted, or not visible to this connection)`;
      for (const item of group) {
        log(item.webhook.id, `failed: ${error}`);
        outcomes.set(item.webhook.id, { status: 'failed', error });
      }
      continue;
    }
    const version = adapter.version(resource);
    for (const item of group) {
      log(item.webhook.id, `resource data downloaded at ${downloadedAt.toISOString()} (version ${version.label})`);
      resourceRows.push({
        webhookId: item.webhook.id,
        attempt: item.attempt,
        entityType: scope.entityType,
        entityId: id,
        data: resource,
        resourceUpdatedAt: version.updatedAt,
        resourceVersion: version.label,
        downloadedAt,
      });
    }
    const [winner, ...older] = group as [ResourceItem, ...ResourceItem[]];
    decisions.push({
      winner,
      older,
      resource,
      versionLabel: version.label,
      version: {
        entityId: id,
        data: resource,
        deleted: false,
        updatedAt: version.updatedAt,
        seq: version.seq,
        downloadedAt,
        webhookId: winner.webhook.id,
      },
    });
  }
  await insertResourceData(db, resourceRows);

  // 5. Store the entities that are newer, then emit their events.
  const applied = await upsertEntitiesIfNewer(
    db,
    key,
    decisions.map((d) => d.version),
  );
  await eachLimited(decisions, EMIT_CONCURRENCY, async (d) => {
    const upsert = applied.get(d.version.entityId);
    if (!upsert) {
      for (const item of [d.winner, ...d.older]) {
        log(item.webhook.id, 'stale: the entity was already processed from data at least as new as this');
        outcomes.set(item.webhook.id, { status: 'stale', result: { stale: true, entityId: d.version.entityId } });
      }
      return;
    }
    const op = operationFor(adapter, d, upsert.inserted);
    outcomes.set(d.winner.webhook.id, await emitFor(deps, scope, d, op, log));
    for (const item of d.older) {
      log(
        item.webhook.id,
        `stale: superseded by the newer webhook ${d.winner.webhook.id} for the same entity in this batch`,
      );
      outcomes.set(item.webhook.id, {
        status: 'stale',
        result: { stale: true, entityId: d.version.entityId, supersededBy: d.winner.webhook.id },
      });
    }
  });
  return outcomes;
}

/** Webhooks per entity, newest event first. */
function groupByEntity(items: ResourceItem[]): Map<string, ResourceItem[]> {
  const groups = new Map<string, ResourceItem[]>();
  for (const item of items) groups.set(entityOf(item), [...(groups.get(entityOf(item)) ?? []), item]);
  for (const group of groups.values()) group.sort((a, b) => eventTime(b.webhook) - eventTime(a.webhook));
  return groups;
}

async function download(deps: ProcessResourcesDeps, scope: ResourceScope, items: ResourceItem[], log: Log) {
  const resources = new Map<string, Record<string, unknown>>();
  const errors = new Map<string, string>();
  const ids = [...new Set(items.map(entityOf))];
  for (let i = 0; i < ids.length; i += deps.maxIdsPerCall) {
    const part = ids.slice(i, i + deps.maxIdsPerCall);
    const inPart = items.filter((item) => part.includes(entityOf(item)));
    try {
      const got = await deps.adapter.fetchResources(deps.caller, scope.tenantId, scope.entityType, part);
      for (const [id, r] of got) resources.set(id, r);
      for (const item of inPart)
        log(item.webhook.id, `fetched ${part.length} ${scope.entityType} id(s) in one call; ${got.size} returned`);
    } catch (err) {
      if (err instanceof ProviderRateLimitedError) throw err;
      for (const id of part) errors.set(id, err instanceof Error ? err.message : String(err));
    }
  }
  return { resources, errors };
}

/** "created" when a CREATE is among the webhooks and this is the entity's first appearance. */
function operationFor(adapter: ProviderAdapter, d: Decision, inserted: boolean): EntityOperation {
  if (d.version.deleted) return 'deleted';
  const ops = [d.winner, ...d.older].map((i) => adapter.operation(i.webhook.event_type ?? ''));
  return ops[0] === 'created' || (inserted && ops.includes('created')) ? 'created' : 'updated';
}

async function emitFor(
  deps: ProcessResourcesDeps,
  scope: ResourceScope,
  d: Decision,
  op: EntityOperation,
  log: Log,
): Promise<ResourceOutcome> {
  const item = d.winner;
  const id = d.version.entityId;
  const result: Record<string, unknown> = {
    entityType: scope.entityType,
    entityId: id,
    operation: op,
    ...(d.versionLabel ? { version: d.versionLabel } : {}),
  };
  const event = deps.adapter.domainEvent(scope.entityType, op, id, d.resource);
  if (!event) {
    log(item.webhook.id, `processed; ${scope.entityType} has no domain event to emit`);
    return { status: 'succeeded', result };
  }
  try {
    // Keyed by webhook: a replayed attempt re-emits nothing.
    const emitted = await deps.emit({
      ...event,
      occurredAt: new Date(eventTime(item.webhook)).toISOString(),
      idempotencyKey: `incoming:${item.webhook.id}`,
      source: scope.provider,
    });
    log(
      item.webhook.id,
      `emitted "${event.type}" as event ${emitted.id}${emitted.duplicate ? ' (already emitted earlier)' : ''}`,
    );
    return { status: 'succeeded', result: { ...result, event: { type: event.type, id: emitted.id } } };
  } catch (err) {
    const error = `the entity was stored but its event could not be emitted: ${err instanceof Error ? err.message : String(err)}`;
    log(item.webhook.id, `failed: ${error}`);
    return { status: 'failed', error };
  }
}
