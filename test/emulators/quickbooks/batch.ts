/**
 * `POST /v3/company/{realmId}/batch`: up to 30 queries and create/update/delete operations in
 * one request, each answered (or faulted) on its own under its `bId`.
 */
import { z } from 'zod';
import { definedOnly, isRecord } from '../values';
import type { QuickBooksApiHandler } from './accounting-routes';
import type { CompanyTime } from './company-time';
import { QboFaultError, objectNotFound, staleObject, validationFault } from './errors';
import { entityMap, type QuickBooksLedger, type RealmData } from './ledger';
import { runQuery } from './query-language';
import type { QboCustomerInput, QboInvoiceInput, QuickBooksEntityName } from './resources';

// Batch payloads are the only request bodies the emulator acts on, so they are checked
// before use; fields the emulator does not model are dropped, as a sparse update would.
const refSchema = z.object({ value: z.string(), name: z.string().optional() });
const lineSchema = z.object({
  Description: z.string().optional(),
  Amount: z.number().optional(),
  DetailType: z.string().optional(),
  SalesItemLineDetail: z
    .object({ ItemRef: refSchema.optional(), Qty: z.number().optional(), UnitPrice: z.number().optional() })
    .optional(),
});
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD');
const invoiceSchema = z.object({
  Id: z.string().optional(),
  SyncToken: z.string().optional(),
  DocNumber: z.string().optional(),
  TxnDate: isoDate.optional(),
  DueDate: isoDate.optional(),
  CustomerRef: z.object({ value: z.string().optional(), name: z.string().optional() }).optional(),
  Line: z.array(lineSchema).optional(),
  TotalAmt: z.number().optional(),
  Balance: z.number().optional(),
  CurrencyRef: refSchema.optional(),
  EmailStatus: z.enum(['NotSet', 'NeedToSend', 'EmailSent']).optional(),
  PrivateNote: z.string().optional(),
});
const customerSchema = z.object({
  Id: z.string().optional(),
  SyncToken: z.string().optional(),
  DisplayName: z.string().optional(),
  GivenName: z.string().optional(),
  FamilyName: z.string().optional(),
  CompanyName: z.string().optional(),
  PrimaryEmailAddr: z.object({ Address: z.string() }).optional(),
  Balance: z.number().optional(),
  Active: z.boolean().optional(),
  CurrencyRef: refSchema.optional(),
});
type BatchEntityFields =
  Omit<z.infer<typeof invoiceSchema>, 'Id' | 'SyncToken'> | Omit<z.infer<typeof customerSchema>, 'Id' | 'SyncToken'>;
const batchItemSchema = z.object({
  bId: z.string().optional(),
  Query: z.string().optional(),
  operation: z.enum(['create', 'update', 'delete']).optional(),
  Invoice: invoiceSchema.optional(),
  Customer: customerSchema.optional(),
});

/** The batch route's handler. */
export function batchHandler(deps: {
  ledger: QuickBooksLedger;
  time: CompanyTime;
  maxItems: () => number;
  /** Counts the items of each accepted batch. */
  countItems: (n: number) => void;
}): QuickBooksApiHandler {
  const { ledger } = deps;

  function runBatchItem(data: RealmData, item: unknown): object {
    const parsed = batchItemSchema.safeParse(item);
    if (!parsed.success) {
      throw validationFault('Request has invalid or unsupported property', parsed.error.issues[0]?.message ?? '');
    }
    const request = parsed.data;
    if (request.Query !== undefined) return { QueryResponse: runQuery(data, request.Query) };
    const entity: QuickBooksEntityName | undefined = request.Invoice
      ? 'Invoice'
      : request.Customer
        ? 'Customer'
        : undefined;
    const payload = request.Invoice ?? request.Customer;
    if (!entity || !payload || request.operation === undefined) {
      throw validationFault(
        'Request has invalid or unsupported property',
        'expected Query, or operation with an entity',
      );
    }
    const { Id: id, SyncToken: syncToken, ...fields } = payload;
    if (request.operation === 'create') {
      if (id !== undefined)
        throw validationFault('Request has invalid or unsupported property', 'Id is not allowed on create');
      return { [entity]: writeEntity(data, entity, fields, undefined) };
    }
    const current = id === undefined ? undefined : entityMap(data, entity).get(id)?.value;
    if (!current || id === undefined) throw objectNotFound();
    if (syncToken !== current.SyncToken) throw staleObject();
    if (request.operation === 'update') return { [entity]: writeEntity(data, entity, fields, id) };
    if (entity === 'Customer') {
      throw validationFault('Operation Delete is not supported', 'Customers cannot be deleted; set Active to false');
    }
    ledger.deleteInvoice(data.realmId, id);
    return { [entity]: { domain: 'QBO', status: 'Deleted', Id: id } };
  }

  function writeEntity(
    data: RealmData,
    entity: QuickBooksEntityName,
    fields: BatchEntityFields,
    id: string | undefined,
  ): object {
    // zod types absent optionals as `undefined`, which exactOptionalPropertyTypes keeps
    // apart from "absent"; after dropping them the payload is a valid seeding input.
    const input = { ...definedOnly(fields), ...(id !== undefined ? { Id: id } : {}) };
    return entity === 'Invoice'
      ? ledger.upsertInvoice(data.realmId, input as QboInvoiceInput)
      : ledger.upsertCustomer(data.realmId, input as QboCustomerInput);
  }

  return (req, res, data) => {
    const body: unknown = req.body;
    const items = isRecord(body) ? body['BatchItemRequest'] : undefined;
    if (!Array.isArray(items) || items.length === 0) {
      throw validationFault(
        'Request has invalid or unsupported property',
        'BatchItemRequest must be a non-empty array',
      );
    }
    const maxItems = deps.maxItems();
    if (items.length > maxItems) {
      throw validationFault(
        'Batch size limit exceeded',
        `Number of batch items (${items.length}) exceeds the maximum allowed (${maxItems})`,
        '4001',
      );
    }
    deps.countItems(items.length);
    const responses = items.map((item: unknown, index) => {
      const bId = isRecord(item) && typeof item['bId'] === 'string' ? item['bId'] : String(index + 1);
      try {
        return { bId, ...runBatchItem(data, item) };
      } catch (error) {
        if (!(error instanceof QboFaultError)) throw error;
        return { bId, Fault: { Error: [error.error], type: error.faultType } };
      }
    });
    res.json({ BatchItemResponse: responses, time: deps.time.response() });
  };
}
