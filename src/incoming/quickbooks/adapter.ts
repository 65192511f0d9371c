import type { ProviderAdapter, ResourceVersion } from '../provider-types';
import { fetchQuickBooksResources } from './client';

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' ? v : null);
const obj = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

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
        return {
          type: `invoice.${op}`,
          objectId: entityId,
          object: r
            ? {
                fields: {
                  invoiceNumber: str(r['DocNumber']),
                  client: { id: str(customer['value']), display: str(customer['name']) },
                  status: balance === 0 ? { id: 'Paid', display: 'Paid' } : { id: 'Open', display: 'Open' },
                  total: num(r['TotalAmt']),
                  amountDue: balance,
                  currency: str(obj(r['CurrencyRef'])['value']),
                  issueDate: str(r['TxnDate']) || null,
                  dueDate: str(r['DueDate']) || null,
                },
                linked: { client: { id: str(customer['value']), name: str(customer['name']) } },
              }
            : { fields: {}, linked: {} },
        };
      }
      if (entity === 'Customer') {
        return {
          type: `client.${op}`,
          objectId: entityId,
          object: r
            ? { fields: { name: str(r['DisplayName']), inactive: r['Active'] === false }, linked: {} }
            : { fields: {}, linked: {} },
        };
      }
      return null;
    },
  };
}
