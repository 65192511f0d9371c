import type { Queryable } from '../../platform/db/pool';

/** "Resource data": what one attempt downloaded for a webhook, and when. */
export interface ResourceDataRow {
  id: string;
  webhook_id: string;
  attempt: number;
  entity_type: string;
  entity_id: string;
  data: unknown;
  resource_updated_at: Date | null;
  resource_version: string | null;
  downloaded_at: Date;
}

/** The entity as last processed; its version decides staleness. */
export interface ProviderEntityRow {
  integration_id: string;
  tenant_id: string;
  entity_type: string;
  entity_id: string;
  data: unknown;
  deleted: boolean;
  resource_updated_at: Date;
  resource_seq: string;
  downloaded_at: Date;
  last_webhook_id: string | null;
  updated_at: Date;
}

export interface NewResourceData {
  webhookId: string;
  attempt: number;
  entityType: string;
  entityId: string;
  data: unknown;
  resourceUpdatedAt: Date | null;
  resourceVersion: string | null;
  downloadedAt: Date;
}

/** Stores downloaded resources; a replayed attempt overwrites its own rows. */
export async function insertResourceData(db: Queryable, rows: NewResourceData[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO incoming_webhook_resources (webhook_id, attempt, entity_type, entity_id, data, resource_updated_at,
       resource_version, downloaded_at)
     SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::timestamptz[])
     ON CONFLICT (webhook_id, attempt, entity_type, entity_id) DO UPDATE SET data = EXCLUDED.data,
       resource_updated_at = EXCLUDED.resource_updated_at, resource_version = EXCLUDED.resource_version,
       downloaded_at = EXCLUDED.downloaded_at`,
    [
      rows.map((r) => r.webhookId),
      rows.map((r) => r.attempt),
      rows.map((r) => r.entityType),
      rows.map((r) => r.entityId),
      rows.map((r) => JSON.stringify(r.data)),
      rows.map((r) => r.resourceUpdatedAt),
      rows.map((r) => r.resourceVersion),
      rows.map((r) => r.downloadedAt),
    ],
  );
}

export async function listResourceData(db: Queryable, webhookId: string): Promise<ResourceDataRow[]> {
  const { rows } = await db.query<ResourceDataRow>(
    'SELECT * FROM incoming_webhook_resources WHERE webhook_id = $1 ORDER BY attempt, id',
    [webhookId],
  );
  return rows;
}

export async function getEntities(
  db: Queryable,
  key: { integrationId: string; tenantId: string; entityType: string },
  entityIds: string[],
): Promise<Map<string, ProviderEntityRow>> {
  if (entityIds.length === 0) return new Map();
  const { rows } = await db.query<ProviderEntityRow>(
    `SELECT * FROM provider_entities WHERE integration_id = $1 AND tenant_id = $2 AND entity_type = $3
       AND entity_id = ANY($4::text[])`,
    [key.integrationId, key.tenantId, key.entityType, entityIds],
  );
  return new Map(rows.map((r) => [r.entity_id, r]));
}

export interface EntityVersion {
  entityId: string;
  data: unknown;
  deleted: boolean;
  updatedAt: Date;
  seq: number;
  downloadedAt: Date;
  webhookId: string;
}

/**
 * Upserts entities only where this version is newer than the stored one — or where the stored
 * one came from the same webhook (a replayed attempt). One statement for a whole chunk. An
 * entity missing from the answer was not applied: it was already processed from data at least
 * as new, so its webhook is stale. `inserted` marks an entity seen for the first time.
 */
export async function upsertEntitiesIfNewer(
  db: Queryable,
  key: { integrationId: string; tenantId: string; entityType: string },
  entities: EntityVersion[],
): Promise<Map<string, { inserted: boolean }>> {
  if (entities.length === 0) return new Map();
  const { rows } = await db.query<{ entity_id: string; inserted: boolean }>(
    `INSERT INTO provider_entities AS p (integration_id, tenant_id, entity_type, entity_id, data, deleted,
       resource_updated_at, resource_seq, downloaded_at, last_webhook_id)
     SELECT $1, $2, $3, u.entity_id, u.data, u.deleted, u.updated_at, u.seq, u.downloaded_at, u.webhook_id
     FROM unnest($4::text[], $5::jsonb[], $6::boolean[], $7::timestamptz[], $8::bigint[], $9::timestamptz[], $10::uuid[])
       AS u(entity_id, data, deleted, updated_at, seq, downloaded_at, webhook_id)
     ON CONFLICT (integration_id, tenant_id, entity_type, entity_id) DO UPDATE SET data = EXCLUDED.data,
       deleted = EXCLUDED.deleted, resource_updated_at = EXCLUDED.resource_updated_at,
       resource_seq = EXCLUDED.resource_seq, downloaded_at = EXCLUDED.downloaded_at,
       last_webhook_id = EXCLUDED.last_webhook_id, updated_at = now()
     WHERE (EXCLUDED.resource_updated_at, EXCLUDED.resource_seq) > (p.resource_updated_at, p.resource_seq)
        OR p.last_webhook_id = EXCLUDED.last_webhook_id
     RETURNING p.entity_id, (xmax = 0) AS inserted`,
    [
      key.integrationId,
      key.tenantId,
      key.entityType,
      entities.map((e) => e.entityId),
      entities.map((e) => JSON.stringify(e.data)),
      entities.map((e) => e.deleted),
      entities.map((e) => e.updatedAt),
      entities.map((e) => e.seq),
      entities.map((e) => e.downloadedAt),
      entities.map((e) => e.webhookId),
    ],
  );
  return new Map(rows.map((r) => [r.entity_id, { inserted: r.inserted }]));
}
