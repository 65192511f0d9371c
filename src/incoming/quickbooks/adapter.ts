import { clientEvent, invoiceEvent, num, obj, str } from '../provider-events';
import type { ProviderAdapter, ResourceVersion } from '../provider-types';
import { fetchQuickBooksResources } from './client';

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
