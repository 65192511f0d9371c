/**
 * api.xero.com's Accounting API reads: `Invoices`, `Contacts` and `CreditNotes`, each as a list
 * (with `IDs` batch fetch, filters, If-Modified-Since and paging) and by id or number, in
 * Xero's PascalCase envelope.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Clock } from '../rate-limiter';
import { parseIfModifiedSince } from './dates';
import { NOT_FOUND_TEXT, apiException } from './errors';
import type { XeroClient } from './identity';
import { GUID, type Stored, type TenantData } from './ledger';
import type { XeroContact, XeroCreditNote, XeroInvoice } from './resources';

export type XeroApiHandler = (req: Request, res: Response, data: TenantData, client: XeroClient | undefined) => void;

interface Collection<T> {
  key: string;
  idField: string;
  numberField: string | undefined;
  items: (data: TenantData) => Map<string, Stored<T>>;
  filters: (req: Request) => (item: T) => boolean;
}

const invoices: Collection<XeroInvoice> = {
  key: 'Invoices',
  idField: 'InvoiceID',
  numberField: 'InvoiceNumber',
  items: (data) => data.invoices,
  filters: (req) => {
    const statuses = new Set(splitList(query(req, 'Statuses')).map((s) => s.toUpperCase()));
    const numbers = new Set(splitList(query(req, 'InvoiceNumbers')));
    const contacts = new Set(splitList(query(req, 'ContactIDs')).map((s) => s.toLowerCase()));
    return (inv) =>
      (statuses.size === 0 || statuses.has(inv.Status)) &&
      (numbers.size === 0 || numbers.has(inv.InvoiceNumber)) &&
      (contacts.size === 0 || contacts.has(inv.Contact.ContactID));
  },
};
const contacts: Collection<XeroContact> = {
  key: 'Contacts',
  idField: 'ContactID',
  numberField: 'ContactNumber',
  items: (data) => data.contacts,
  filters: () => () => true,
};
const creditNotes: Collection<XeroCreditNote> = {
  key: 'CreditNotes',
  idField: 'CreditNoteID',
  numberField: 'CreditNoteNumber',
  items: (data) => data.creditNotes,
  filters: () => () => true,
};

/** The read routes, by path under `/api.xro/2.0` and the endpoint name stats count them under. */
export function accountingRoutes(options: {
  now: Clock;
  maxIds: number;
  /** Counts the ids asked for through `IDs`/`ContactIDs`. */
  countIds: (n: number) => void;
}): { path: string; endpoint: string; handle: XeroApiHandler }[] {
  const envelope = (client: XeroClient | undefined, key: string, items: unknown[], extra: object = {}): object => ({
    Id: randomUUID(),
    Status: 'OK',
    ProviderName: client?.name ?? 'Switchyard',
    DateTimeUTC: `/Date(${options.now()})/`,
    ...extra,
    [key]: items,
  });

  function listRoute<T>(c: Collection<T>): XeroApiHandler {
    return (req, res, data, client) => {
      const idList = [
        ...splitList(query(req, 'IDs')),
        ...(c.key === 'Contacts' ? splitList(query(req, 'ContactIDs')) : []),
      ];
      options.countIds(idList.length);
      if (idList.length > options.maxIds) {
        res
          .status(400)
          .json(apiException(`The number of IDs (${idList.length}) exceeds the maximum of ${options.maxIds}`));
        return;
      }
      const badId = idList.find((id) => !GUID.test(id));
      if (badId !== undefined) {
        res.status(400).json(apiException(`'${badId}' is not a valid GUID`));
        return;
      }
      const extraFilter = c.filters(req);
      const since = parseIfModifiedSince(req.get('if-modified-since'));
      const items = c.items(data);
      // Look ids up directly: a benchmark tenant holds thousands of records.
      const candidates =
        idList.length > 0
          ? [...new Set(idList.map((id) => id.toLowerCase()))].flatMap((id) => items.get(id) ?? [])
          : [...items.values()];
      const rows = candidates
        .filter((s) => (since === undefined || s.updatedMs >= since) && extraFilter(s.value))
        .sort((a, b) => a.updatedMs - b.updatedMs || idOf(a.value, c.idField).localeCompare(idOf(b.value, c.idField)));

      const pageParam = query(req, 'page');
      if (pageParam === undefined) {
        res.json(
          envelope(
            client,
            c.key,
            rows.map((s) => structuredClone(s.value)),
          ),
        );
        return;
      }
      const page = Number(pageParam);
      const pageSize = Number(query(req, 'pageSize') ?? 100);
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
        res.status(400).json(apiException('page must be a positive integer and pageSize between 1 and 1000'));
        return;
      }
      const slice = rows.slice((page - 1) * pageSize, page * pageSize).map((s) => structuredClone(s.value));
      const pagination = { page, pageSize, pageCount: Math.ceil(rows.length / pageSize), itemCount: rows.length };
      res.json(envelope(client, c.key, slice, { pagination }));
    };
  }

  function singleRoute<T>(c: Collection<T>): XeroApiHandler {
    return (req, res, data, client) => {
      const key = String(req.params['id'] ?? '').toLowerCase();
      const map = c.items(data);
      const stored =
        map.get(key) ??
        [...map.values()].find(
          (s) => c.numberField !== undefined && fieldOf(s.value, c.numberField).toLowerCase() === key,
        );
      if (!stored) {
        res.status(404).type('text/plain').send(NOT_FOUND_TEXT);
        return;
      }
      const since = parseIfModifiedSince(req.get('if-modified-since'));
      if (since !== undefined && stored.updatedMs < since) {
        res.status(304).end();
        return;
      }
      res.json(envelope(client, c.key, [structuredClone(stored.value)]));
    };
  }

  const routesOf = <T>(c: Collection<T>) => [
    { path: c.key, endpoint: `GET /${c.key}`, handle: listRoute(c) },
    { path: `${c.key}/:id`, endpoint: `GET /${c.key}/{id}`, handle: singleRoute(c) },
  ];
  return [...routesOf(invoices), ...routesOf(contacts), ...routesOf(creditNotes)];
}

function idOf(value: unknown, field: string): string {
  return fieldOf(value, field).toLowerCase();
}

function fieldOf(value: unknown, field: string): string {
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : '';
}

// Xero treats query parameter names case-insensitively.
function query(req: Request, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(req.query as Record<string, unknown>)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string').join(',');
  }
  return undefined;
}

function splitList(value: string | undefined): string[] {
  return value === undefined
    ? []
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}
