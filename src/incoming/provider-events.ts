import type { EntityOperation, ProviderDomainEvent } from './provider-types';

// Readers for the loosely typed JSON that providers answer with.
export const str = (v: unknown) => (typeof v === 'string' ? v : '');
export const num = (v: unknown) => (typeof v === 'number' ? v : null);
export const obj = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

/** The catalogue's invoice, as every provider's invoice is mapped to it. */
export interface InvoiceFields {
  invoiceNumber: string;
  client: { id: string; display: string };
  status: { id: string; display: string };
  total: number | null;
  amountDue: number | null;
  currency: string;
  issueDate: string | null;
  dueDate: string | null;
}

const noObject = () => ({ fields: {}, linked: {} });

/** `invoice.<op>` with the invoice and its client; empty fields when the provider had no resource. */
export function invoiceEvent(
  op: EntityOperation,
  objectId: string,
  invoice: InvoiceFields | null,
): ProviderDomainEvent {
  return {
    type: `invoice.${op}`,
    objectId,
    object: invoice
      ? { fields: { ...invoice }, linked: { client: { id: invoice.client.id, name: invoice.client.display } } }
      : noObject(),
  };
}

/** `client.<op>`: the service desk's client (Xero's contact, QuickBooks' customer). */
export function clientEvent(
  op: EntityOperation,
  objectId: string,
  client: { name: string; inactive: boolean } | null,
): ProviderDomainEvent {
  return { type: `client.${op}`, objectId, object: client ? { fields: { ...client }, linked: {} } : noObject() };
}
