import { clientEvent, invoiceEvent, num, obj, str } from '../provider-events';
import type { ProviderAdapter, ResourceVersion } from '../provider-types';
import { fetchXeroResources, parseXeroDate } from './client';

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
