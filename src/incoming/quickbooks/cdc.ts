import type { InboundProviderEvent } from '../inbound-event';
import { ProviderRequestError, type ProviderCaller } from '../provider-types';

/**
 * Change data capture: every entity of the given types changed since a time (QuickBooks keeps
 * 30 days and answers at most 1,000 objects, oldest first). Each change becomes the same kind of
 * event a webhook brings, so a catch-up after a gap goes through ordinary processing, where
 * changes already processed are recognised as stale.
 */

/** How far back QuickBooks' CDC reaches. */
export const CDC_MAX_DAYS = 30;

export interface CdcResult {
  events: InboundProviderEvent[];
  /** The time of the newest change returned: the next catch-up starts here when `truncated`. */
  newest: Date | undefined;
  /** QuickBooks returned its maximum: there may be more after `newest`. */
  truncated: boolean;
}

const CDC_MAX_OBJECTS = 1000;

export async function fetchChanges(
  call: ProviderCaller,
  realmId: string,
  entities: string[],
  since: Date,
  minorVersion: number,
): Promise<CdcResult> {
  if (!/^\d{1,30}$/.test(realmId) || entities.some((e) => !/^[A-Za-z]{1,50}$/.test(e))) {
    throw new ProviderRequestError('refusing a CDC call with a malformed realm or entity name');
  }
  const res = await call({
    method: 'GET',
    path: `/v3/company/${realmId}/cdc`,
    query: { entities: entities.join(','), changedSince: since.toISOString(), minorversion: String(minorVersion) },
    headers: { accept: 'application/json' },
  });
  if (res.status !== 200) {
    throw new ProviderRequestError(
      `QuickBooks answered ${res.status} to the CDC call: ${res.body.slice(0, 300)}`,
      res.status,
    );
  }
  let body: { CDCResponse?: Array<{ QueryResponse?: Array<Record<string, unknown>> }> };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    throw new ProviderRequestError("QuickBooks' answer to the CDC call is not JSON");
  }
  const events: InboundProviderEvent[] = [];
  let newest: number | undefined;
  for (const response of body.CDCResponse ?? []) {
    for (const part of response.QueryResponse ?? []) {
      for (const entity of entities) {
        const rows = part[entity];
        if (!Array.isArray(rows)) continue;
        for (const row of rows as Array<Record<string, unknown>>) {
          const id = typeof row['Id'] === 'string' ? row['Id'] : undefined;
          const meta = (row['MetaData'] ?? {}) as Record<string, unknown>;
          const at = Date.parse(String(meta['LastUpdatedTime'] ?? ''));
          if (!id || !/^\d{1,30}$/.test(id) || Number.isNaN(at)) continue;
          // An entity never changed since its creation reads as a Create, so "created" events are not lost.
          const operation =
            row['status'] === 'Deleted'
              ? 'Delete'
              : meta['CreateTime'] === meta['LastUpdatedTime']
                ? 'Create'
                : 'Update';
          const eventAt = new Date(at);
          newest = Math.max(newest ?? at, at);
          events.push({
            tenantId: realmId,
            entityType: entity,
            entityId: id,
            eventType: `${entity}.${operation}`,
            eventAt,
            deliveryKey: [realmId, entity, id, operation, eventAt.toISOString()].join(':'),
            payload: JSON.stringify({
              source: 'cdc',
              realmId,
              name: entity,
              id,
              operation,
              lastUpdated: eventAt.toISOString(),
            }),
          });
        }
      }
    }
  }
  return {
    events,
    newest: newest === undefined ? undefined : new Date(newest),
    truncated: events.length >= CDC_MAX_OBJECTS,
  };
}
