/**
 * `GET /v3/company/{realmId}/cdc?entities=…&changedSince=…`: change data capture, the way to
 * catch up on missed webhooks. Deletions come back as `status: "Deleted"` stubs; the answer
 * reaches back at most 30 days and holds at most 1,000 objects, oldest first.
 */
import type { Clock } from '../rate-limiter';
import type { QuickBooksApiHandler } from './accounting-routes';
import type { CompanyTime } from './company-time';
import { validationFault } from './errors';
import { ENTITIES, entityMap, tombstones } from './ledger';
import type { QuickBooksEntityName } from './resources';

export function cdcHandler(deps: {
  now: Clock;
  time: CompanyTime;
  maxDays: number;
  maxObjects: number;
}): QuickBooksApiHandler {
  return (req, res, data) => {
    const entitiesParam = queryParam(req.query, 'entities');
    const changedSinceParam = queryParam(req.query, 'changedSince');
    if (!entitiesParam || !changedSinceParam) {
      throw validationFault('Invalid Request', 'Both entities and changedSince are required');
    }
    const changedSince = Date.parse(changedSinceParam);
    if (Number.isNaN(changedSince)) {
      throw validationFault('Invalid Request', `changedSince is not a valid date-time: ${changedSinceParam}`);
    }
    if (deps.now() - changedSince > deps.maxDays * 86_400_000) {
      throw validationFault('Invalid Request', `changedSince must be within the last ${deps.maxDays} days`);
    }
    const requested: QuickBooksEntityName[] = [];
    for (const raw of entitiesParam.split(',')) {
      const name = ENTITIES.find((e) => e.toLowerCase() === raw.trim().toLowerCase());
      if (!name) throw validationFault('Invalid Request', `Entity ${raw.trim()} is not supported by CDC`);
      if (!requested.includes(name)) requested.push(name);
    }
    const changes: { entity: QuickBooksEntityName; ms: number; row: object }[] = [];
    for (const entity of requested) {
      for (const stored of entityMap(data, entity).values()) {
        if (stored.updatedMs >= changedSince)
          changes.push({ entity, ms: stored.updatedMs, row: structuredClone(stored.value) });
      }
      for (const tomb of tombstones(data, entity).values()) {
        if (tomb.deletedMs < changedSince) continue;
        const row = {
          domain: 'QBO',
          status: 'Deleted',
          Id: tomb.id,
          MetaData: { LastUpdatedTime: deps.time.stamp(tomb.deletedMs) },
        };
        changes.push({ entity, ms: tomb.deletedMs, row });
      }
    }
    // QuickBooks caps a CDC answer; the oldest changes come first so a caller can resume.
    const kept = changes.sort((a, b) => a.ms - b.ms).slice(0, deps.maxObjects);
    const queryResponses = requested.map((entity) => {
      const rows = kept.filter((c) => c.entity === entity).map((c) => c.row);
      return rows.length === 0
        ? {}
        : { [entity]: rows, startPosition: 1, maxResults: rows.length, totalCount: rows.length };
    });
    res.json({ CDCResponse: [{ QueryResponse: queryResponses }], time: deps.time.response() });
  };
}

/** A query parameter's first value. */
export function queryParam(query: unknown, name: string): string | undefined {
  const value: unknown = (query as Record<string, unknown>)[name];
  if (typeof value === 'string') return value;
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}
