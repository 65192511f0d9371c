// The QuickBooks provider in one place: how its webhooks are verified and read (the wire the
// ingress route uses) and how its API is called and its resources turned into events (the adapter).
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { safeEqual } from '../../platform/security/compare';
import { isIsoDateTime } from '../../platform/http/input-boundary';
import { InvalidWebhookBodyError, parseJsonBody, type InboundProviderEvent } from '../inbound-event';
import type { ProviderWire } from '../provider-wire';
import type { QuickBooksSettings } from './settings';
import { clientEvent, invoiceEvent, num, obj, str } from '../provider-events';
import {
  ProviderRequestError,
  type ProviderAdapter,
  type ProviderCaller,
  type ResourceVersion,
} from '../provider-types';

export const QUICKBOOKS_SIGNATURE_HEADER = 'intuit-signature';

const numericId = z.string().regex(/^\d{1,30}$/, { error: 'must be a numeric id' });
// CloudEvents `time` is RFC 3339; the legacy `lastUpdated` is ISO 8601 (`-0700` offsets). Both
// carry a zone: a bare "1" or a local time would be read in this server's zone, or as 2001.
const rfc3339 = z
  .string()
  .max(40)
  .refine((s) => isIsoDateTime(s), { error: 'must be an RFC 3339 date-time such as 2026-05-04T17:30:00Z' });
const isoDateTime = z
  .string()
  .max(40)
  .refine((s) => isIsoDateTime(s, { offsetColon: 'optional' }), {
    error: 'must be an ISO 8601 date-time with a zone such as 2026-05-04T17:30:00-0700',
  });
const entityName = z.string().regex(/^[A-Za-z]{1,50}$/, { error: 'must be an entity name' });

// Read loosely on purpose: Intuit adds fields, and a refused delivery is retried for days.
const legacyEntity = z.looseObject({
  name: entityName,
  id: numericId,
  operation: z.string().regex(/^[A-Za-z]{1,20}$/, { error: 'must be an operation name' }),
  lastUpdated: isoDateTime,
  deletedId: numericId.optional(),
});

const legacyBody = z.looseObject({
  eventNotifications: z
    .array(
      z.looseObject({
        realmId: numericId,
        dataChangeEvent: z.looseObject({ entities: z.array(legacyEntity).max(5000) }),
      }),
    )
    .min(1)
    .max(1000),
});

const cloudEvent = z.looseObject({
  specversion: z.string().max(10),
  data: z.looseObject({ deletedId: numericId.optional() }).optional(),
  id: z.string().min(1).max(200),
  type: z
    .string()
    .regex(/^qbo\.[a-z]{1,50}\.[a-z]{1,20}\.v\d{1,3}$/, { error: 'must look like qbo.<entity>.<operation>.v1' }),
  time: rfc3339,
  intuitentityid: numericId,
  intuitaccountid: numericId,
});

const cloudBody = z.array(cloudEvent).min(1).max(5000);

/** CloudEvents name operations in the past tense; the legacy format (and the stored type) in the present. */
const OPERATIONS: Record<string, string> = {
  created: 'Create',
  updated: 'Update',
  deleted: 'Delete',
  merged: 'Merge',
  voided: 'Void',
  emailed: 'Emailed',
};

const KNOWN_NAMES = ['Invoice', 'Customer', 'CreditMemo', 'Payment', 'Estimate', 'Vendor', 'Bill', 'Item', 'Account'];
const canonicalName = (lower: string) =>
  KNOWN_NAMES.find((n) => n.toLowerCase() === lower) ?? `${lower.charAt(0).toUpperCase()}${lower.slice(1)}`;

/** base64(HMAC-SHA256(raw body, verifier token)) compared in constant time. */
export function verifyQuickBooksSignature(raw: Buffer, given: string | undefined, verifierToken: string): boolean {
  if (!given) return false;
  const expected = createHmac('sha256', verifierToken).update(raw).digest('base64');
  return safeEqual(given.trim(), expected);
}

function invalid(error: z.ZodError, format: string): InvalidWebhookBodyError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  return new InvalidWebhookBodyError(
    'invalid_payload',
    `The body is not a QuickBooks ${format} webhook: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    issues,
  );
}

const event = (
  realmId: string,
  name: string,
  id: string,
  operation: string,
  at: string,
  raw: unknown,
): InboundProviderEvent => {
  const eventAt = new Date(at);
  return {
    tenantId: realmId,
    entityType: name,
    entityId: id,
    eventType: `${name}.${operation}`,
    eventAt,
    // Both formats describe the same change the same way, so a change sent in both dedupes.
    deliveryKey: [realmId, name, id, operation, eventAt.toISOString()].join(':'),
    payload: JSON.stringify(raw),
  };
};

/**
 * A merge names the survivor (`id`, refetched as an update) and the merged-away entity
 * (`deletedId`): that one gets its own event, a deletion recording what it was merged into.
 */
function withMergedAway(e: InboundProviderEvent, deletedId: string | undefined): InboundProviderEvent[] {
  if (!deletedId || !e.eventType.endsWith('.Merge') || deletedId === e.entityId) return [e];
  const eventAt = e.eventAt!;
  const gone: InboundProviderEvent = {
    ...e,
    entityId: deletedId,
    eventType: `${e.entityType}.Delete`,
    deliveryKey: [e.tenantId, e.entityType, deletedId, 'MergedInto', e.entityId, eventAt.toISOString()].join(':'),
    payload: JSON.stringify({ ...(JSON.parse(e.payload) as object), mergedInto: e.entityId }),
  };
  return [e, gone];
}

/**
 * Reads either QuickBooks format — the legacy `eventNotifications` object or the CloudEvents
 * array — into one stored webhook per entity change.
 */
export function quickBooksEvents(payload: unknown): InboundProviderEvent[] {
  if (Array.isArray(payload)) {
    const parsed = cloudBody.safeParse(payload);
    if (!parsed.success) throw invalid(parsed.error, 'CloudEvents');
    return parsed.data.flatMap((e) => {
      const [, entity = '', op = ''] = e.type.split('.');
      const operation = OPERATIONS[op] ?? `${op.charAt(0).toUpperCase()}${op.slice(1)}`;
      return withMergedAway(
        event(e.intuitaccountid, canonicalName(entity), e.intuitentityid, operation, e.time, e),
        e.data?.deletedId,
      );
    });
  }
  const parsed = legacyBody.safeParse(payload);
  if (!parsed.success) throw invalid(parsed.error, 'eventNotifications');
  return parsed.data.eventNotifications.flatMap((n) =>
    n.dataChangeEvent.entities.flatMap((e) =>
      withMergedAway(
        event(n.realmId, canonicalName(e.name.toLowerCase()), e.id, e.operation, e.lastUpdated, {
          realmId: n.realmId,
          ...e,
        }),
        e.deletedId,
      ),
    ),
  );
}

/** Both the legacy `eventNotifications` and the CloudEvents format. */
export const quickBooksWire: ProviderWire = {
  provider: 'quickbooks',
  bareAnswers: false,
  verify: (raw, headers, token) => verifyQuickBooksSignature(raw, headers[QUICKBOOKS_SIGNATURE_HEADER], token),
  events: (raw) => quickBooksEvents(parseJsonBody(raw)),
  wanted: (e, settings) => {
    const realms = (settings as QuickBooksSettings).realmIds;
    return settings.entityTypes.includes(e.entityType) && (!realms || realms.includes(e.tenantId));
  },
};

/**
 * Fetches up to 30 entities of one type in one call with the query language
 * (`select * from Invoice where Id in ('1','2')`). Ids are digits only — the ingress checks —
 * so they can be quoted into the query safely.
 */
export async function fetchQuickBooksResources(
  call: ProviderCaller,
  realmId: string,
  entity: string,
  ids: string[],
  minorVersion: number,
): Promise<Map<string, Record<string, unknown>>> {
  if (!/^[A-Za-z]{1,50}$/.test(entity) || ids.some((id) => !/^\d{1,30}$/.test(id))) {
    throw new ProviderRequestError(`refusing to query ${entity} with non-numeric ids`);
  }
  const query = `select * from ${entity} where Id in (${ids.map((id) => `'${id}'`).join(',')}) maxresults 1000`;
  const res = await call({
    method: 'GET',
    path: `/v3/company/${realmId}/query`,
    query: { query, minorversion: String(minorVersion) },
    headers: { accept: 'application/json' },
  });
  if (res.status !== 200) {
    throw new ProviderRequestError(
      `QuickBooks answered ${res.status} to the ${entity} query: ${res.body.slice(0, 300)}`,
      res.status,
    );
  }
  let body: { QueryResponse?: Record<string, unknown> };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    throw new ProviderRequestError(
      `QuickBooks' answer to the ${entity} query is not JSON${res.bodyTruncated ? ' (truncated)' : ''}`,
    );
  }
  if (!body.QueryResponse) throw new ProviderRequestError("QuickBooks' answer has no QueryResponse");
  const list = body.QueryResponse[entity];
  const out = new Map<string, Record<string, unknown>>();
  if (Array.isArray(list)) {
    for (const item of list as Array<Record<string, unknown>>) {
      if (typeof item['Id'] === 'string') out.set(item['Id'], item);
    }
  }
  return out;
}

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
