/**
 * The organisations (tenants) an emulated Xero holds and their contacts, invoices and credit
 * notes. Every write stamps the record with a strictly increasing time per tenant, which is
 * what `UpdatedDateUTC` and If-Modified-Since catch-up read.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../rate-limiter';
import { definedOnly, isoDay, round2 } from '../values';
import { calendarDate, dayOf, msDate } from './dates';
import type {
  XeroContact,
  XeroContactInput,
  XeroContactRef,
  XeroCreditNote,
  XeroCreditNoteInput,
  XeroInvoice,
  XeroInvoiceInput,
  XeroLineItem,
  XeroLineItemInput,
  XeroTenant,
} from './resources';

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A record with the time of its last write. */
export interface Stored<T> {
  value: T;
  updatedMs: number;
}

export interface TenantData {
  tenant: XeroTenant;
  invoices: Map<string, Stored<XeroInvoice>>;
  contacts: Map<string, Stored<XeroContact>>;
  creditNotes: Map<string, Stored<XeroCreditNote>>;
  lastStampMs: number;
  counters: { invoice: number; creditNote: number; contact: number };
}

export type XeroLedger = ReturnType<typeof createXeroLedger>;

export function createXeroLedger(now: Clock) {
  const tenants = new Map<string, TenantData>();

  function addTenant(tenantId: string, name?: string): XeroTenant {
    const existing = tenants.get(tenantId);
    if (existing) {
      if (name !== undefined) existing.tenant.tenantName = name;
      return { ...existing.tenant };
    }
    const tenant: XeroTenant = {
      tenantId,
      tenantName: name ?? `Demo Company ${tenants.size + 1}`,
      tenantType: 'ORGANISATION',
      createdDateUtc: new Date(now()).toISOString(),
    };
    tenants.set(tenantId, {
      tenant,
      invoices: new Map(),
      contacts: new Map(),
      creditNotes: new Map(),
      lastStampMs: 0,
      counters: { invoice: 0, creditNote: 0, contact: 0 },
    });
    return { ...tenant };
  }

  function requireTenant(tenantId: string): TenantData {
    const data = tenants.get(tenantId);
    if (!data) throw new Error(`Xero emulator: unknown tenant ${tenantId}; call addTenant first`);
    return data;
  }

  // Tenant ids arrive in headers in any case.
  function findTenant(lowerId: string): TenantData | undefined {
    for (const [id, data] of tenants) if (id.toLowerCase() === lowerId) return data;
    return undefined;
  }

  // Strictly increasing per tenant, so If-Modified-Since catch-up sees every change in order.
  function stamp(data: TenantData): number {
    data.lastStampMs = Math.max(now(), data.lastStampMs + 1);
    return data.lastStampMs;
  }

  function upsertContact(tenantId: string, input: XeroContactInput): XeroContact {
    const data = requireTenant(tenantId);
    const id = newId(input.ContactID, 'ContactID');
    const previous = data.contacts.get(id)?.value;
    if (!previous) data.counters.contact += 1;
    const updatedMs = stamp(data);
    const contact: XeroContact = {
      ContactID: id,
      ContactNumber: '',
      ContactStatus: 'ACTIVE',
      Name: `Customer ${data.counters.contact}`,
      FirstName: '',
      LastName: '',
      EmailAddress: '',
      IsSupplier: false,
      IsCustomer: true,
      DefaultCurrency: 'NZD',
      Addresses: [],
      Phones: [],
      HasAttachments: false,
      ...previous,
      ...definedOnly(input),
      UpdatedDateUTC: msDate(updatedMs),
    };
    contact.ContactID = id;
    data.contacts.set(id, { value: contact, updatedMs });
    return structuredClone(contact);
  }

  // Invoices name their contact; an unknown one is created so seeding stays a one-liner.
  function resolveContact(data: TenantData, ref: Partial<XeroContactRef> | undefined, fallback?: XeroContactRef) {
    if (!ref && fallback) return fallback;
    const known = ref?.ContactID !== undefined ? data.contacts.get(ref.ContactID.toLowerCase())?.value : undefined;
    const contact =
      known ??
      upsertContact(data.tenant.tenantId, {
        ...(ref?.ContactID !== undefined ? { ContactID: ref.ContactID } : {}),
        ...(ref?.Name !== undefined ? { Name: ref.Name } : {}),
      });
    return { ContactID: contact.ContactID, Name: contact.Name };
  }

  // Invoices and credit notes alike: the contact, the lines with their totals, and the date.
  function documentBasics(
    data: TenantData,
    input: { Contact?: Partial<XeroContactRef>; LineItems?: XeroLineItemInput[]; Total?: number; Date?: string },
    previous: { Contact: XeroContactRef; LineItems: XeroLineItem[]; DateString: string } | undefined,
  ) {
    const contact = resolveContact(data, input.Contact, previous?.Contact);
    const lines = buildLines(input.LineItems, input.Total, previous?.LineItems);
    const date = input.Date ?? dayOf(previous?.DateString) ?? isoDay(now());
    return { contact, lines, totals: sumLines(lines), date };
  }

  function upsertInvoice(tenantId: string, input: XeroInvoiceInput): XeroInvoice {
    const data = requireTenant(tenantId);
    const id = newId(input.InvoiceID, 'InvoiceID');
    const previous = data.invoices.get(id)?.value;
    if (!previous) data.counters.invoice += 1;
    const { contact, lines, totals, date } = documentBasics(data, input, previous);
    const status = input.Status ?? previous?.Status ?? 'AUTHORISED';
    const amountCredited = input.AmountCredited ?? previous?.AmountCredited ?? 0;
    const amountPaid =
      input.AmountPaid ?? (status === 'PAID' ? totals.Total - amountCredited : (previous?.AmountPaid ?? 0));
    const due = input.DueDate ?? dayOf(previous?.DueDateString) ?? isoDay(Date.parse(`${date}T00:00:00Z`) + 30 * 864e5);
    const updatedMs = stamp(data);
    const invoice: XeroInvoice = {
      Type: input.Type ?? previous?.Type ?? 'ACCREC',
      InvoiceID: id,
      InvoiceNumber:
        input.InvoiceNumber ?? previous?.InvoiceNumber ?? `INV-${String(data.counters.invoice).padStart(4, '0')}`,
      Reference: input.Reference ?? previous?.Reference ?? '',
      Status: status,
      LineAmountTypes: 'Exclusive',
      Contact: contact,
      ...calendarDate('Date', date),
      ...calendarDate('DueDate', due),
      LineItems: lines,
      ...totals,
      AmountDue: round2(totals.Total - amountPaid - amountCredited),
      AmountPaid: round2(amountPaid),
      AmountCredited: round2(amountCredited),
      CurrencyCode: input.CurrencyCode ?? previous?.CurrencyCode ?? 'NZD',
      CurrencyRate: 1,
      HasAttachments: false,
      UpdatedDateUTC: msDate(updatedMs),
    };
    data.invoices.set(id, { value: invoice, updatedMs });
    return structuredClone(invoice);
  }

  function upsertCreditNote(tenantId: string, input: XeroCreditNoteInput): XeroCreditNote {
    const data = requireTenant(tenantId);
    const id = newId(input.CreditNoteID, 'CreditNoteID');
    const previous = data.creditNotes.get(id)?.value;
    if (!previous) data.counters.creditNote += 1;
    const { contact, lines, totals, date } = documentBasics(data, input, previous);
    const updatedMs = stamp(data);
    const creditNote: XeroCreditNote = {
      Type: input.Type ?? previous?.Type ?? 'ACCRECCREDIT',
      CreditNoteID: id,
      CreditNoteNumber:
        input.CreditNoteNumber ??
        previous?.CreditNoteNumber ??
        `CN-${String(data.counters.creditNote).padStart(4, '0')}`,
      Reference: input.Reference ?? previous?.Reference ?? '',
      Status: input.Status ?? previous?.Status ?? 'AUTHORISED',
      LineAmountTypes: 'Exclusive',
      Contact: contact,
      ...calendarDate('Date', date),
      LineItems: lines,
      ...totals,
      RemainingCredit: round2(input.RemainingCredit ?? previous?.RemainingCredit ?? totals.Total),
      CurrencyCode: input.CurrencyCode ?? previous?.CurrencyCode ?? 'NZD',
      CurrencyRate: 1,
      HasAttachments: false,
      UpdatedDateUTC: msDate(updatedMs),
    };
    data.creditNotes.set(id, { value: creditNote, updatedMs });
    return structuredClone(creditNote);
  }

  return {
    tenants: tenants as ReadonlyMap<string, TenantData>,
    addTenant,
    requireTenant,
    findTenant,
    upsertContact,
    upsertInvoice,
    upsertCreditNote,
  };
}

/** A copy of a stored record, looked up by its (case-insensitive) GUID. */
export function readStored<T>(map: Map<string, Stored<T>>, id: string): T | undefined {
  const stored = map.get(id.toLowerCase());
  return stored ? structuredClone(stored.value) : undefined;
}

function newId(given: string | undefined, what: string): string {
  if (given === undefined) return randomUUID();
  if (!GUID.test(given)) throw new Error(`Xero emulator: ${what} must be a GUID, got ${given}`);
  return given.toLowerCase();
}

function buildLines(
  input: XeroLineItemInput[] | undefined,
  total: number | undefined,
  previous: XeroLineItem[] | undefined,
): XeroLineItem[] {
  const source: XeroLineItemInput[] = input ??
    (total !== undefined ? [{ Description: 'Services', UnitAmount: total, TaxAmount: 0 }] : undefined) ??
    previous ?? [{ Description: 'Consulting services', Quantity: 1, UnitAmount: 100, TaxAmount: 15 }];
  return source.map((line) => {
    const quantity = line.Quantity ?? 1;
    const unit = line.UnitAmount ?? 0;
    return {
      LineItemID: line.LineItemID ?? randomUUID(),
      Description: line.Description ?? '',
      Quantity: quantity,
      UnitAmount: unit,
      AccountCode: line.AccountCode ?? '200',
      TaxType: line.TaxType ?? ((line.TaxAmount ?? 0) === 0 ? 'NONE' : 'OUTPUT2'),
      TaxAmount: round2(line.TaxAmount ?? 0),
      LineAmount: round2(line.LineAmount ?? quantity * unit),
    };
  });
}

function sumLines(lines: XeroLineItem[]): { SubTotal: number; TotalTax: number; Total: number } {
  const subTotal = round2(lines.reduce((sum, l) => sum + l.LineAmount, 0));
  const tax = round2(lines.reduce((sum, l) => sum + l.TaxAmount, 0));
  return { SubTotal: subTotal, TotalTax: tax, Total: round2(subTotal + tax) };
}
