import { z } from 'zod';
import { assertSafeUrl, BlockedDestinationError, type DestinationPolicy } from '../platform/http/safe-request';
import { fieldDef, findEventType, OBJECT_FIELDS } from './catalogue';
import { checkCondition, CONDITION_OPERATORS, type Condition, type MatchMode, type RuleViolation } from './conditions';
import { PAYLOAD_TYPES, type PayloadConfig } from './payload';
import { isValidSigningSecret } from '../platform/security/webhook-signing';

export const BATCH_MODES = ['none', 'same_event', 'same_event_type', 'any_event'] as const;
export type BatchMode = (typeof BATCH_MODES)[number];

/** Bounds of the per-webhook delivery limits. */
export const MAX_CONCURRENCY = 100;
export const MAX_RATE_PER_SECOND = 1000;
export const DEFAULT_LIMITS = { concurrencyLimit: 10, rateLimitPerSecond: null, strictOrdering: false } as const;

const scalar = z.union([z.string().max(500), z.number(), z.boolean()]);

const conditionSchema = z
  .object({
    field: z.string().trim().min(1).max(100),
    operator: z.enum(CONDITION_OPERATORS),
    value: z.union([scalar, z.array(scalar).max(100)]).optional(),
  })
  .strict();

const eventSchema = z
  .object({
    type: z.string().trim().min(1).max(100),
    match: z.enum(['all', 'any']).optional(),
    conditions: z.array(conditionSchema).max(50).optional(),
  })
  .strict();

// What HTTP allows in a field value (RFC 9110 §5.5): no CR, LF, NUL or other controls, so a
// value can never split into a second header or request.
const headerValue = z
  .string()
  .min(1)
  .max(4000)
  .regex(/^[\t\x20-\x7e\x80-\xff]+$/, { error: 'must not contain line breaks or other control characters' });

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('basic'),
      username: z.string().min(1).max(200),
      password: z.string().min(1).max(500).optional(),
    })
    .strict(),
  z.object({ type: z.literal('bearer'), token: headerValue.optional() }).strict(),
  z
    .object({
      type: z.literal('header'),
      name: z.string().trim().min(1).max(100),
      value: headerValue.optional(),
    })
    .strict(),
]);

const payloadSchema = z
  .object({
    type: z.enum(PAYLOAD_TYPES),
    fields: z
      .array(z.object({ field: z.string().trim().min(1).max(100), sendId: z.boolean().optional() }).strict())
      .max(200)
      .optional(),
  })
  .strict();

const batchingSchema = z
  .object({
    mode: z.enum(BATCH_MODES),
    waitSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86400)
      .optional(),
    maxItems: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

const shape = {
  name: z.string().trim().min(1).max(200),
  url: z.string().trim().min(1).max(2000),
  type: z.string().trim().min(1).max(50),
  method: z.enum(['POST', 'GET']),
  authentication: authSchema,
  lightweightLogs: z.boolean(),
  payload: payloadSchema,
  events: z.array(eventSchema).max(100),
  batching: batchingSchema,
  enabled: z.boolean(),
  autoDisableThreshold: z.number().int().min(0).max(100000),
  concurrencyLimit: z.number().int().min(1).max(MAX_CONCURRENCY),
  rateLimitPerSecond: z.number().positive().max(MAX_RATE_PER_SECOND).nullable(),
  strictOrdering: z.boolean(),
};

/** `POST /api/v1/webhooks`: name, url and events are required; the rest have defaults. */
export const webhookCreateSchema = z
  .object({ ...shape, signingSecret: z.string().max(200).optional() })
  .partial()
  .required({ name: true, url: true, events: true })
  .strict();

/** `PATCH /api/v1/webhooks/:id`: any subset; the merged result must satisfy every rule. */
export const webhookUpdateSchema = z.object(shape).partial().strict();

export type WebhookCreate = z.output<typeof webhookCreateSchema>;
export type WebhookUpdate = z.output<typeof webhookUpdateSchema>;

export type WebhookAuth =
  { type: 'none' } | { type: 'basic'; username: string } | { type: 'bearer' } | { type: 'header'; name: string };

/** The secret half of authentication, stored encrypted and never returned. */
export interface AuthSecret {
  password?: string;
  token?: string;
  value?: string;
}

export interface WebhookEventConfig {
  type: string;
  match: MatchMode;
  conditions: Condition[];
}

/** A webhook's configuration as stored (secrets apart). */
export interface WebhookSettings {
  name: string;
  url: string;
  type: string;
  method: 'POST' | 'GET';
  auth: WebhookAuth;
  lightweightLogs: boolean;
  payload: PayloadConfig;
  events: WebhookEventConfig[];
  batching: { mode: BatchMode; waitSeconds: number; maxItems: number };
  enabled: boolean;
  autoDisableThreshold: number;
  /** Deliveries the webhook's lane sends at once. */
  concurrencyLimit: number;
  /** Request starts per second, or null for no limit. */
  rateLimitPerSecond: number | null;
  /** FIFO: the next delivery waits until the previous one succeeds or is given up. */
  strictOrdering: boolean;
}

export const DEFAULT_BATCH = { mode: 'none' as BatchMode, waitSeconds: 30, maxItems: 100 };

function splitAuth(a: z.output<typeof authSchema>): { auth: WebhookAuth; secret: AuthSecret | undefined } {
  switch (a.type) {
    case 'none':
      return { auth: a, secret: {} };
    case 'basic':
      return {
        auth: { type: 'basic', username: a.username },
        secret: a.password ? { password: a.password } : undefined,
      };
    case 'bearer':
      return { auth: { type: 'bearer' }, secret: a.token ? { token: a.token } : undefined };
    case 'header':
      return { auth: { type: 'header', name: a.name }, secret: a.value ? { value: a.value } : undefined };
  }
}

/**
 * Applies a create or update body over the current settings (or the defaults). `secret` is
 * undefined when the body leaves an existing credential as it is.
 */
export function mergeSettings(
  body: WebhookUpdate,
  current: WebhookSettings | undefined,
): { settings: WebhookSettings; authSecret: AuthSecret | undefined; authChanged: boolean } {
  const base: WebhookSettings = current ?? {
    name: '',
    url: '',
    type: 'standard',
    method: 'POST',
    auth: { type: 'none' },
    lightweightLogs: false,
    payload: { type: 'small', fields: [] },
    events: [],
    batching: DEFAULT_BATCH,
    enabled: true,
    autoDisableThreshold: 0,
    ...DEFAULT_LIMITS,
  };
  const split = body.authentication ? splitAuth(body.authentication) : undefined;
  const settings: WebhookSettings = {
    name: body.name ?? base.name,
    url: body.url ?? base.url,
    type: body.type ?? base.type,
    method: body.method ?? base.method,
    auth: split?.auth ?? base.auth,
    lightweightLogs: body.lightweightLogs ?? base.lightweightLogs,
    payload: body.payload
      ? {
          type: body.payload.type,
          fields: (body.payload.fields ?? []).map((f) => ({ field: f.field, sendId: f.sendId ?? false })),
        }
      : base.payload,
    events: body.events
      ? body.events.map((e) => ({
          type: findEventType(e.type)?.key ?? e.type,
          match: e.match ?? 'all',
          conditions: (e.conditions ?? []).map((c) =>
            c.value === undefined ? { field: c.field, operator: c.operator } : c,
          ),
        }))
      : base.events,
    batching: body.batching
      ? {
          mode: body.batching.mode,
          waitSeconds: body.batching.waitSeconds ?? DEFAULT_BATCH.waitSeconds,
          maxItems: body.batching.maxItems ?? DEFAULT_BATCH.maxItems,
        }
      : base.batching,
    enabled: body.enabled ?? base.enabled,
    autoDisableThreshold: body.autoDisableThreshold ?? base.autoDisableThreshold,
    concurrencyLimit: body.concurrencyLimit ?? base.concurrencyLimit,
    rateLimitPerSecond: body.rateLimitPerSecond === undefined ? base.rateLimitPerSecond : body.rateLimitPerSecond,
    strictOrdering: body.strictOrdering ?? base.strictOrdering,
  };
  return { settings, authSecret: split?.secret, authChanged: split !== undefined };
}

const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

const v = (rule: string, message: string): RuleViolation => ({ rule, message });

function eventRules(s: WebhookSettings): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (s.events.length === 0) out.push(v('at_least_one_event', 'events: a webhook needs at least one event'));
  const seen = new Set<string>();
  s.events.forEach((e, i) => {
    const def = findEventType(e.type);
    if (!def) return out.push(v('unknown_event_type', `events.${i}.type: "${e.type}" is not in the event catalogue`));
    if (seen.has(def.key)) out.push(v('duplicate_event_type', `events.${i}.type: "${def.name}" is listed twice`));
    seen.add(def.key);
    e.conditions.forEach((c, j) => {
      const where = `events.${i}.conditions.${j}`;
      if (!fieldDef(def.objectType, c.field)) {
        out.push(v('unknown_field', `${where}.field: a ${def.objectType} has no field "${c.field}"`));
      }
      const problem = checkCondition(c, where);
      if (problem) out.push(problem);
    });
  });
  return out;
}

function payloadRules(s: WebhookSettings): RuleViolation[] {
  const out: RuleViolation[] = [];
  const { payload } = s;
  if (payload.type !== 'custom') {
    if (payload.fields.length > 0)
      out.push(v('fields_require_custom_payload', 'payload.fields: only a custom payload lists fields'));
    return out;
  }
  if (payload.fields.length === 0)
    out.push(v('custom_payload_requires_fields', 'payload.fields: a custom payload needs at least one field'));
  const objectTypes = [
    ...new Set(s.events.map((e) => findEventType(e.type)?.objectType).filter((t) => t !== undefined)),
  ];
  const seen = new Set<string>();
  payload.fields.forEach((f, i) => {
    if (seen.has(f.field)) out.push(v('duplicate_field', `payload.fields.${i}: "${f.field}" is listed twice`));
    seen.add(f.field);
    const defs = objectTypes.map((t) => fieldDef(t, f.field)).filter((d) => d !== undefined);
    if (defs.length === 0) {
      const known = objectTypes.map((t) => `${t}: ${OBJECT_FIELDS[t].map((d) => d.name).join(', ')}`).join('; ');
      out.push(
        v('unknown_field', `payload.fields.${i}: "${f.field}" is not a field of the subscribed objects (${known})`),
      );
    } else if (f.sendId && defs.some((d) => d.type !== 'single_select')) {
      out.push(
        v(
          'send_id_single_select_only',
          `payload.fields.${i}: "send ID instead of display value" applies to single-select fields only`,
        ),
      );
    }
  });
  return out;
}

function batchingRules(s: WebhookSettings): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (s.batching.mode !== 'none') {
    if (s.payload.type === 'full') {
      out.push(
        v(
          'batching_requires_non_full_payload',
          'batching: not available with the "full object with linked objects" payload',
        ),
      );
    }
    if (s.type !== 'standard')
      out.push(v('batching_requires_standard_type', 'batching: only a standard webhook can batch'));
    if (s.method !== 'POST') out.push(v('batching_requires_post', 'batching: only a POST webhook can batch'));
  }
  if (s.type !== 'standard')
    out.push(v('unsupported_webhook_type', `type: "${s.type}" is not supported; use "standard"`));
  return out;
}

function authRules(s: WebhookSettings, secret: AuthSecret | undefined): RuleViolation[] {
  const a = s.auth;
  if (a.type === 'basic' && !secret?.password)
    return [v('basic_auth_requires_password', 'authentication.password: basic authentication needs a password')];
  if (a.type === 'bearer' && !secret?.token)
    return [v('bearer_auth_requires_token', 'authentication.token: bearer authentication needs a token')];
  if (a.type === 'header') {
    if (!HEADER_TOKEN.test(a.name))
      return [v('invalid_auth_header_name', `authentication.name: "${a.name}" is not a valid header name`)];
    if (RESERVED_HEADERS.has(a.name.toLowerCase())) {
      return [
        v(
          'auth_header_reserved',
          `authentication.name: "${a.name}" is set by Switchyard and cannot be used for authentication`,
        ),
      ];
    }
    if (!secret?.value)
      return [v('header_auth_requires_value', 'authentication.value: custom header authentication needs a value')];
  }
  return [];
}

function urlRules(s: WebhookSettings, policy: DestinationPolicy): RuleViolation[] {
  try {
    assertSafeUrl(s.url, policy);
    return [];
  } catch (err) {
    if (!(err instanceof BlockedDestinationError)) throw err;
    return [v(/not a valid URL/.test(err.message) ? 'invalid_url' : 'blocked_destination', `url: ${err.message}`)];
  }
}

/**
 * A stored authentication secret (password, token, header value) is sent to the webhook's URL:
 * a new URL only keeps it when the same request states it again, so whoever can edit a webhook
 * cannot redirect its credential elsewhere.
 */
export function movedUrlRules(
  before: WebhookSettings,
  after: WebhookSettings,
  stored: AuthSecret,
  restated: AuthSecret | undefined,
): RuleViolation[] {
  if (after.url === before.url || restated !== undefined) return [];
  const keeps = after.auth.type !== 'none' && Object.values(stored).some((x) => typeof x === 'string' && x !== '');
  if (!keeps) return [];
  return [
    v(
      'secret_required',
      `url: changing it sends the stored ${after.auth.type} credential to a new host: send authentication with its secret in the same request`,
    ),
  ];
}

/** Every configuration rule that `s` breaks; an empty list means the webhook may be saved. */
export function checkWebhookRules(
  s: WebhookSettings,
  authSecret: AuthSecret | undefined,
  policy: DestinationPolicy,
  signingSecret?: string,
): RuleViolation[] {
  const out = [
    ...eventRules(s),
    ...payloadRules(s),
    ...batchingRules(s),
    ...authRules(s, authSecret),
    ...urlRules(s, policy),
  ];
  if (signingSecret !== undefined && !isValidSigningSecret(signingSecret)) {
    out.push(v('invalid_signing_secret', 'signingSecret: must be "whsec_" followed by base64 of 24 to 64 bytes'));
  }
  return out;
}
