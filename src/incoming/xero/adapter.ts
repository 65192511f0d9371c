import { clientEvent, invoiceEvent, num, obj, str } from '../provider-events';
import {
  ProviderRequestError,
  type ProviderAdapter,
  type ProviderCaller,
  type ResourceVersion,
} from '../provider-types';

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

const day = (v: unknown) => {
  const ms = parseXeroDate(v);
  return ms === undefined ? null : new Date(ms).toISOString().slice(0, 10);
};

/** Xero: GUID resources, `UpdatedDateUTC` to the millisecond, no sequence numbers. */
export const xeroAdapter: ProviderAdapter = {
  name: 'xero',
  timePrecisionMs: 0,
  fetchResources: fetchXeroResources,
  version(resource): ResourceVersion {
    const ms = parseXeroDate(resource['UpdatedDateUTC']) ?? 0;
    return { updatedAt: new Date(ms), seq: 0, label: new Date(ms).toISOString() };
  },
  operation: (eventType) =>
    eventType.endsWith('.CREATE') ? 'created' : eventType.endsWith('.DELETE') ? 'deleted' : 'updated',
  domainEvent(entityType, op, entityId, r) {
    if (entityType === 'INVOICE') {
      const contact = obj(r?.['Contact']);
      return invoiceEvent(
        op,
        entityId,
        r && {
          invoiceNumber: str(r['InvoiceNumber']),
          client: { id: str(contact['ContactID']), display: str(contact['Name']) },
          status: { id: str(r['Status']), display: str(r['Status']) },
          total: num(r['Total']),
          amountDue: num(r['AmountDue']),
          currency: str(r['CurrencyCode']),
          issueDate: day(r['Date']),
          dueDate: day(r['DueDate']),
        },
      );
    }
    if (entityType === 'CONTACT') {
      // A Xero contact is the service desk's client (the catalogue has no "contact" object).
      return clientEvent(op, entityId, r && { name: str(r['Name']), inactive: r['ContactStatus'] === 'ARCHIVED' });
    }
    // Credit notes are stored but the event catalogue has no object for them.
    return null;
  },
};
