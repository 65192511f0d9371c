import { clientEvent, invoiceEvent, num, obj, str } from '../provider-events';
import {
  ProviderRequestError,
  type ProviderAdapter,
  type ProviderCaller,
  type ResourceVersion,
} from '../provider-types';

/**
 * Fetches up to 30 entities of one type in one call with the query language
 * (`select * from Invoice where Id in ('1','2')`). Ids are digits only — the ingress checks —
 * so they can be quoted into the query safely.
 */
export async function fetchQuickBooksResources(
  call: ProviderCaller,
  realmId: string,
  entity: string,
  ids: string[],
  minorVersion: number,
): Promise<Map<string, Record<string, unknown>>> {
  if (!/^[A-Za-z]{1,50}$/.test(entity) || ids.some((id) => !/^\d{1,30}$/.test(id))) {
    throw new ProviderRequestError(`refusing to query ${entity} with non-numeric ids`);
  }
  const query = `select * from ${entity} where Id in (${ids.map((id) => `'${id}'`).join(',')}) maxresults 1000`;
  const res = await call({
    method: 'GET',
    path: `/v3/company/${realmId}/query`,
    query: { query, minorversion: String(minorVersion) },
    headers: { accept: 'application/json' },
  });
  if (res.status !== 200) {
    throw new ProviderRequestError(
      `QuickBooks answered ${res.status} to the ${entity} query: ${res.body.slice(0, 300)}`,
      res.status,
    );
  }
  let body: { QueryResponse?: Record<string, unknown> };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    throw new ProviderRequestError(
      `QuickBooks' answer to the ${entity} query is not JSON${res.bodyTruncated ? ' (truncated)' : ''}`,
    );
  }
  if (!body.QueryResponse) throw new ProviderRequestError("QuickBooks' answer has no QueryResponse");
  const list = body.QueryResponse[entity];
  const out = new Map<string, Record<string, unknown>>();
  if (Array.isArray(list)) {
    for (const item of list as Array<Record<string, unknown>>) {
      if (typeof item['Id'] === 'string') out.set(item['Id'], item);
    }
  }
  return out;
}

/**
 * QuickBooks: `MetaData.LastUpdatedTime` has second resolution (with the company's local
 * offset), so `SyncToken` — which grows with every change — breaks ties between versions.
 */
export function quickBooksAdapter(minorVersion: number): ProviderAdapter {
  return {
    name: 'quickbooks',
    timePrecisionMs: 1000,
    fetchResources: (call, realmId, entity, ids) => fetchQuickBooksResources(call, realmId, entity, ids, minorVersion),
    version(resource): ResourceVersion {
      const meta = obj(resource['MetaData']);
      const ms = Date.parse(str(meta['LastUpdatedTime']));
      const seq = Number(resource['SyncToken'] ?? 0);
      const updatedAt = new Date(Number.isNaN(ms) ? 0 : ms);
      return { updatedAt, seq: Number.isFinite(seq) ? seq : 0, label: `${str(meta['LastUpdatedTime'])} #${seq}` };
    },
    operation: (eventType) => {
      const op = eventType.split('.')[1] ?? '';
      return op === 'Create' ? 'created' : op === 'Delete' ? 'deleted' : 'updated';
    },
    tombstone(payload) {
      try {
        const merged = (JSON.parse(payload) as { mergedInto?: unknown }).mergedInto;
        return typeof merged === 'string' ? { mergedInto: merged } : null;
      } catch {
        return null;
      }
    },
    domainEvent(entity, op, entityId, r) {
      if (op === 'deleted') {
        const type = entity === 'Invoice' ? 'invoice' : entity === 'Customer' ? 'client' : null;
        if (!type) return null;
        // A merged-away entity names its survivor, so receivers can re-point their references.
        const mergedInto = typeof r?.['mergedInto'] === 'string' ? r['mergedInto'] : undefined;
        return {
          type: `${type}.deleted`,
          objectId: entityId,
          object: { fields: {}, linked: mergedInto ? { mergedInto: { id: mergedInto } } : {} },
        };
      }
      if (entity === 'Invoice') {
        const customer = obj(r?.['CustomerRef']);
        const balance = num(r?.['Balance']);
        return invoiceEvent(
          op,
          entityId,
          r && {
            invoiceNumber: str(r['DocNumber']),
            client: { id: str(customer['value']), display: str(customer['name']) },
            status: balance === 0 ? { id: 'Paid', display: 'Paid' } : { id: 'Open', display: 'Open' },
            total: num(r['TotalAmt']),
            amountDue: balance,
            currency: str(obj(r['CurrencyRef'])['value']),
            issueDate: str(r['TxnDate']) || null,
            dueDate: str(r['DueDate']) || null,
          },
        );
      }
      if (entity === 'Customer') {
        return clientEvent(op, entityId, r && { name: str(r['DisplayName']), inactive: r['Active'] === false });
      }
      return null;
    },
  };
}
