/**
 * The companies (realms) an emulated QuickBooks holds, their invoices and customers, and the
 * tombstones CDC reports for deleted or merged-away records. Ids are numeric and per realm,
 * and every write bumps `SyncToken` and `MetaData.LastUpdatedTime`.
 */
import type { Clock } from '../rate-limiter';
import { definedOnly, isoDay, round2 } from '../values';
import type { CompanyTime } from './company-time';
import type {
  QboCustomer,
  QboCustomerInput,
  QboInvoice,
  QboInvoiceInput,
  QboInvoiceLine,
  QboLineInput,
  QboMetaData,
  QboRef,
  QuickBooksEntityName,
} from './resources';

/** A record with the time of its last write. */
export interface Stored<T> {
  value: T;
  updatedMs: number;
}

export interface Tombstone {
  id: string;
  deletedMs: number;
}

export interface RealmData {
  realmId: string;
  companyName: string;
  invoices: Map<string, Stored<QboInvoice>>;
  customers: Map<string, Stored<QboCustomer>>;
  deletedInvoices: Map<string, Tombstone>;
  deletedCustomers: Map<string, Tombstone>;
  lastStampMs: number;
  nextId: Record<QuickBooksEntityName, number>;
}

export const ENTITIES: readonly QuickBooksEntityName[] = ['Invoice', 'Customer'];

export type QuickBooksLedger = ReturnType<typeof createQuickBooksLedger>;

export function createQuickBooksLedger(now: Clock, time: CompanyTime) {
  const realms = new Map<string, RealmData>();

  function addRealm(realmId: string, companyName?: string): void {
    const existing = realms.get(realmId);
    if (existing) {
      if (companyName !== undefined) existing.companyName = companyName;
      return;
    }
    realms.set(realmId, {
      realmId,
      companyName: companyName ?? `Sandbox Company ${realms.size + 1}`,
      invoices: new Map(),
      customers: new Map(),
      deletedInvoices: new Map(),
      deletedCustomers: new Map(),
      lastStampMs: 0,
      nextId: { Invoice: 130, Customer: 58 },
    });
  }

  function requireRealm(realmId: string): RealmData {
    const data = realms.get(realmId);
    if (!data) throw new Error(`QuickBooks emulator: unknown realm ${realmId}; call addRealm first`);
    return data;
  }

  // Strictly increasing per realm so CDC returns changes in the order they happened.
  function stamp(data: RealmData): number {
    data.lastStampMs = Math.max(now(), data.lastStampMs + 1);
    return data.lastStampMs;
  }

  function meta(previous: QboMetaData | undefined, updatedMs: number): QboMetaData {
    return { CreateTime: previous?.CreateTime ?? time.stamp(updatedMs), LastUpdatedTime: time.stamp(updatedMs) };
  }

  function upsertCustomer(realmId: string, input: QboCustomerInput): QboCustomer {
    const data = requireRealm(realmId);
    const previous = input.Id !== undefined ? data.customers.get(input.Id)?.value : undefined;
    const id = previous?.Id ?? pickId(data, 'Customer', input.Id);
    const updatedMs = stamp(data);
    const customer: QboCustomer = {
      DisplayName: `Customer ${id}`,
      GivenName: '',
      FamilyName: '',
      CompanyName: '',
      Balance: 0,
      Active: true,
      CurrencyRef: { value: 'USD', name: 'United States Dollar' },
      ...previous,
      ...definedOnly(input),
      Id: id,
      SyncToken: nextSyncToken(previous),
      domain: 'QBO',
      sparse: false,
      MetaData: meta(previous?.MetaData, updatedMs),
    };
    data.customers.set(id, { value: customer, updatedMs });
    return structuredClone(customer);
  }

  function upsertInvoice(realmId: string, input: QboInvoiceInput): QboInvoice {
    const data = requireRealm(realmId);
    const previous = input.Id !== undefined ? data.invoices.get(input.Id)?.value : undefined;
    if (input.Id !== undefined && data.deletedInvoices.has(input.Id)) {
      throw new Error(`QuickBooks emulator: invoice ${input.Id} was deleted`);
    }
    const id = previous?.Id ?? pickId(data, 'Invoice', input.Id);
    const customerRef = resolveCustomer(data, input.CustomerRef, previous?.CustomerRef);
    const salesLines = buildLines(input.Line, input.TotalAmt, previous?.Line);
    const subTotal = round2(salesLines.reduce((sum, l) => sum + l.Amount, 0));
    const line: QboInvoiceLine[] = [
      ...salesLines,
      { Amount: subTotal, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} },
    ];
    const txnDate = input.TxnDate ?? previous?.TxnDate ?? isoDay(now());
    const updatedMs = stamp(data);
    const invoice: QboInvoice = {
      Id: id,
      SyncToken: nextSyncToken(previous),
      domain: 'QBO',
      sparse: false,
      MetaData: meta(previous?.MetaData, updatedMs),
      DocNumber: input.DocNumber ?? previous?.DocNumber ?? String(1000 + Number(id)),
      TxnDate: txnDate,
      DueDate: input.DueDate ?? previous?.DueDate ?? isoDay(Date.parse(`${txnDate}T00:00:00Z`) + 30 * 864e5),
      CurrencyRef: input.CurrencyRef ?? previous?.CurrencyRef ?? { value: 'USD', name: 'United States Dollar' },
      CustomerRef: customerRef,
      Line: line,
      TxnTaxDetail: { TotalTax: 0 },
      TotalAmt: subTotal,
      Balance: round2(
        input.Balance ?? (input.Line || input.TotalAmt !== undefined ? subTotal : (previous?.Balance ?? subTotal)),
      ),
      EmailStatus: input.EmailStatus ?? previous?.EmailStatus ?? 'NotSet',
      PrivateNote: input.PrivateNote ?? previous?.PrivateNote ?? '',
    };
    data.invoices.set(id, { value: invoice, updatedMs });
    return structuredClone(invoice);
  }

  // Seeding names customers loosely; an unknown one is created so tests stay one-liners.
  function resolveCustomer(data: RealmData, ref: Partial<QboRef> | undefined, fallback: QboRef | undefined): QboRef {
    if (!ref && fallback) return fallback;
    const known = ref?.value !== undefined ? data.customers.get(ref.value)?.value : undefined;
    const customer =
      known ??
      upsertCustomer(data.realmId, {
        ...(ref?.value !== undefined ? { Id: ref.value } : {}),
        ...(ref?.name !== undefined ? { DisplayName: ref.name } : {}),
      });
    return { value: customer.Id, name: customer.DisplayName };
  }

  function deleteInvoice(realmId: string, id: string): boolean {
    const data = requireRealm(realmId);
    if (!data.invoices.delete(id)) return false;
    data.deletedInvoices.set(id, { id, deletedMs: stamp(data) });
    return true;
  }

  function mergeCustomers(realmId: string, fromId: string, intoId: string): QboCustomer {
    const data = requireRealm(realmId);
    const from = data.customers.get(fromId)?.value;
    const into = data.customers.get(intoId)?.value;
    if (!from || !into) throw new Error(`QuickBooks emulator: both customers ${fromId} and ${intoId} must exist`);
    // Invoices follow the surviving customer.
    for (const inv of data.invoices.values()) {
      if (inv.value.CustomerRef.value === fromId) inv.value.CustomerRef = { value: intoId, name: into.DisplayName };
    }
    data.customers.delete(fromId);
    data.deletedCustomers.set(fromId, { id: fromId, deletedMs: stamp(data) });
    return upsertCustomer(realmId, { Id: intoId, Balance: round2(into.Balance + from.Balance) });
  }

  return {
    realms: realms as ReadonlyMap<string, RealmData>,
    addRealm,
    requireRealm,
    upsertCustomer,
    upsertInvoice,
    deleteInvoice,
    mergeCustomers,
  };
}

export function entityMap(
  data: RealmData,
  entity: QuickBooksEntityName,
): Map<string, Stored<QboInvoice | QboCustomer>> {
  return entity === 'Invoice' ? data.invoices : data.customers;
}

export function tombstones(data: RealmData, entity: QuickBooksEntityName): Map<string, Tombstone> {
  return entity === 'Invoice' ? data.deletedInvoices : data.deletedCustomers;
}

/** A copy of a stored record. */
export function readStored<T>(map: Map<string, Stored<T>>, id: string): T | undefined {
  const stored = map.get(id);
  return stored ? structuredClone(stored.value) : undefined;
}

function pickId(data: RealmData, entity: QuickBooksEntityName, given: string | undefined): string {
  if (given === undefined) {
    const id = String(data.nextId[entity]);
    data.nextId[entity] += 1;
    return id;
  }
  if (!/^\d+$/.test(given)) throw new Error(`QuickBooks emulator: ${entity} Id must be numeric, got ${given}`);
  data.nextId[entity] = Math.max(data.nextId[entity], Number(given) + 1);
  return given;
}

function nextSyncToken(previous: { SyncToken: string } | undefined): string {
  return previous ? String(Number(previous.SyncToken) + 1) : '0';
}

function buildLines(
  input: QboLineInput[] | undefined,
  total: number | undefined,
  previous: QboInvoiceLine[] | undefined,
) {
  const sales = previous?.filter((l) => l.DetailType === 'SalesItemLineDetail');
  const source: QboLineInput[] = input?.filter((l) => l.DetailType !== 'SubTotalLineDetail') ??
    (total !== undefined ? [{ Description: 'Services', Amount: total }] : undefined) ??
    sales ?? [{ Description: 'Consulting services', Qty: 1, UnitPrice: 100 }];
  return source.map((line, index): QboInvoiceLine => {
    const qty = line.Qty ?? line.SalesItemLineDetail?.Qty ?? 1;
    const unitPrice = line.UnitPrice ?? line.SalesItemLineDetail?.UnitPrice ?? (line.Amount ?? 0) / (qty || 1);
    return {
      Id: String(index + 1),
      LineNum: index + 1,
      Description: line.Description ?? '',
      Amount: round2(line.Amount ?? qty * unitPrice),
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: {
        ItemRef: line.ItemRef ?? line.SalesItemLineDetail?.ItemRef ?? { value: '1', name: 'Services' },
        Qty: qty,
        UnitPrice: unitPrice,
        TaxCodeRef: { value: 'NON' },
      },
    };
  });
}
