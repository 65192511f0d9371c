import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { safeEqual } from '../../platform/security/compare';
import { isIsoDateTime } from '../../platform/http/input-boundary';
import { InvalidWebhookBodyError, parseJsonBody, type InboundProviderEvent } from '../inbound-event';
import type { ProviderWire } from '../provider-wire';
import type { QuickBooksSettings } from './settings';

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
