import { ProviderRequestError, type ProviderCaller } from '../provider-types';

/** Collection path and id field of each Xero category Switchyard fetches. */
export const XERO_COLLECTIONS: Record<string, { path: string; idField: string }> = {
  INVOICE: { path: 'Invoices', idField: 'InvoiceID' },
  CONTACT: { path: 'Contacts', idField: 'ContactID' },
  CREDITNOTE: { path: 'CreditNotes', idField: 'CreditNoteID' },
};

/** Reads Xero's `/Date(1700000000000+0000)/` API dates into epoch milliseconds. */
export function parseXeroDate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(value);
  if (m?.[1] !== undefined) return Number(m[1]);
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Fetches up to ~50 resources of one category in a single call (`GET /Invoices?IDs=a,b,c`).
 * Ids Xero does not return are simply missing from the map.
 */
export async function fetchXeroResources(
  call: ProviderCaller,
  tenantId: string,
  category: string,
  ids: string[],
): Promise<Map<string, Record<string, unknown>>> {
  const collection = XERO_COLLECTIONS[category];
  if (!collection) throw new ProviderRequestError(`Xero category ${category} cannot be fetched`);
  const res = await call({
    method: 'GET',
    path: `/${collection.path}`,
    query: { IDs: ids.join(',') },
    headers: { 'xero-tenant-id': tenantId, accept: 'application/json' },
  });
  if (res.status !== 200) {
    throw new ProviderRequestError(
      `Xero answered ${res.status} to GET ${collection.path}: ${res.body.slice(0, 300)}`,
      res.status,
    );
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    throw new ProviderRequestError(
      `Xero's answer to GET ${collection.path} is not JSON${res.bodyTruncated ? ' (truncated)' : ''}`,
    );
  }
  const list = body[collection.path];
  if (!Array.isArray(list)) throw new ProviderRequestError(`Xero's answer has no ${collection.path} list`);
  const out = new Map<string, Record<string, unknown>>();
  for (const item of list as Array<Record<string, unknown>>) {
    const id = item[collection.idField];
    if (typeof id === 'string') out.set(id.toLowerCase(), item);
  }
  return out;
}
