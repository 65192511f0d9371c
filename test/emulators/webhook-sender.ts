// Builds, signs and posts webhooks exactly as Xero and QuickBooks Online do, so the
// ingress can be exercised with real bodies and real signatures, and optionally keeps
// re-sending failures on each provider's retry schedule (scaled down for tests).
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export type XeroEventCategory = 'INVOICE' | 'CONTACT' | 'CREDITNOTE' | 'SUBSCRIPTION';
export type XeroEventType = 'CREATE' | 'UPDATE';

export interface XeroEventInput {
  resourceId: string;
  tenantId: string;
  eventCategory: XeroEventCategory;
  eventType?: XeroEventType;
  tenantType?: 'ORGANISATION' | 'APPLICATION';
  /** Defaults to now; a Date is written the way Xero writes it (UTC, no zone suffix). */
  eventDateUtc?: string | Date;
  resourceUrl?: string;
  /** Credit-note events may carry `{ Type, Status }`. */
  data?: Record<string, unknown>;
}

export interface XeroWebhookEvent {
  resourceUrl: string;
  resourceId: string;
  eventDateUtc: string;
  eventType: XeroEventType;
  eventCategory: XeroEventCategory;
  tenantId: string;
  tenantType: 'ORGANISATION' | 'APPLICATION';
  data?: Record<string, unknown>;
}

export interface XeroWebhookPayload {
  events: XeroWebhookEvent[];
  firstEventSequence: number;
  lastEventSequence: number;
  entropy: string;
}

export interface XeroPayloadOptions {
  firstEventSequence?: number;
  entropy?: string;
  /** Base of `resourceUrl`; Xero's production API unless a test wants the emulator's. */
  apiBaseUrl?: string;
}

export type QuickBooksOperation = 'Create' | 'Update' | 'Delete' | 'Merge' | 'Void' | 'Emailed';

export interface QuickBooksEntityChange {
  name: string;
  id: string;
  operation: QuickBooksOperation;
  /** Defaults to now. */
  lastUpdated?: string | Date;
  deletedId?: string;
}

export interface QuickBooksLegacyPayload {
  eventNotifications: {
    realmId: string;
    dataChangeEvent: {
      entities: { name: string; id: string; operation: QuickBooksOperation; lastUpdated: string; deletedId?: string }[];
    };
  }[];
}

export interface QuickBooksCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  datacontenttype: 'application/json';
  time: string;
  intuitentityid: string;
  intuitaccountid: string;
  data: Record<string, unknown>;
}

export interface QuickBooksCloudEventsOptions {
  source?: string;
  data?: Record<string, unknown>;
}

export interface SendOptions {
  /** Signs with a different key, as an impostor would. */
  badSignature?: boolean;
  timeoutMs?: number;
  headers?: Record<string, string>;
  contentType?: string;
}

export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  durationMs: number;
}

export interface RetryOptions {
  /** Multiplies each scheduled delay; 0.001 turns the 10 s step into 10 ms. */
  scale?: number;
  maxAttempts?: number;
  signal?: AbortSignal;
  /** Called after every attempt, e.g. to log or to assert on ordering. */
  onAttempt?: (attempt: DeliveryAttempt) => void;
}

export interface DeliveryAttempt {
  attempt: number;
  scheduledDelayMs: number;
  response?: WebhookResponse;
  error?: string;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: DeliveryAttempt[];
}

/**
 * Xero documents only "decreasing frequency over 24 hours"; this schedule (delays before
 * each attempt) follows that shape and totals just under a day.
 */
export const XERO_RETRY_SCHEDULE_MS: readonly number[] = [
  0, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000,
];

/** QuickBooks: 0 s, 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h. */
export const QUICKBOOKS_RETRY_SCHEDULE_MS: readonly number[] = [
  0, 10_000, 20_000, 30_000, 300_000, 1_200_000, 7_200_000, 14_400_000, 21_600_000,
];

const QUICKBOOKS_REPEAT_MS = 21_600_000;
const XERO_API_BASE = 'https://api.xero.com/api.xro/2.0';
const XERO_RESOURCE_PATH: Record<XeroEventCategory, string> = {
  INVOICE: 'Invoices',
  CONTACT: 'Contacts',
  CREDITNOTE: 'CreditNotes',
  SUBSCRIPTION: 'Subscriptions',
};

// ---- Xero ---------------------------------------------------------------------------

/** Builds a Xero webhook body; sequences run consecutively from `firstEventSequence` (default 1). */
export function buildXeroPayload(events: XeroEventInput[], options: XeroPayloadOptions = {}): XeroWebhookPayload {
  const first = options.firstEventSequence ?? 1;
  const base = options.apiBaseUrl ?? XERO_API_BASE;
  return {
    events: events.map((e) => ({
      resourceUrl: e.resourceUrl ?? `${base}/${XERO_RESOURCE_PATH[e.eventCategory]}/${e.resourceId}`,
      resourceId: e.resourceId,
      eventDateUtc: xeroEventDate(e.eventDateUtc ?? new Date()),
      eventType: e.eventType ?? 'UPDATE',
      eventCategory: e.eventCategory,
      tenantId: e.tenantId,
      tenantType: e.tenantType ?? 'ORGANISATION',
      ...(e.data ? { data: e.data } : {}),
    })),
    firstEventSequence: first,
    lastEventSequence: first + Math.max(0, events.length - 1),
    entropy: options.entropy ?? entropy(),
  };
}

/** The body Xero posts to prove an endpoint checks signatures: no events, sequences 0. */
export function buildXeroIntentToReceive(): XeroWebhookPayload {
  return { events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: entropy() };
}

/**
 * The headers a Standard Webhooks sender puts on a generic integration's webhook, signed by the
 * `standardwebhooks` reference package rather than by Switchyard's own code. A fresh id and the
 * current time unless given: a retry of one delivery passes the same `id`.
 */
export function signStandardWebhook(
  body: string | Buffer,
  secret: string,
  o: { id?: string; at?: Date } = {},
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const id = o.id ?? `msg_${randomUUID()}`;
  const at = o.at ?? new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

/** base64(HMAC-SHA256(raw body, webhook key)), the `x-xero-signature` value. */
export function signXero(rawBody: string | Buffer, webhookKey: string): string {
  return createHmac('sha256', webhookKey).update(rawBody).digest('base64');
}

/** Posts a Xero webhook with its `x-xero-signature`. */
export async function sendXeroWebhook(
  url: string,
  body: XeroWebhookPayload | string,
  webhookKey: string,
  options: SendOptions = {},
): Promise<WebhookResponse> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const key = options.badSignature ? `${webhookKey}-forged` : webhookKey;
  return post(url, raw, { 'x-xero-signature': signXero(raw, key) }, options);
}

/**
 * Runs Xero's intent-to-receive check: a correctly signed empty body must get 200 and a
 * wrongly signed one 401, both with no body, within 5 s.
 */
export async function checkXeroIntentToReceive(
  url: string,
  webhookKey: string,
): Promise<{ passed: boolean; problems: string[]; good: WebhookResponse; bad: WebhookResponse }> {
  const good = await sendXeroWebhook(url, buildXeroIntentToReceive(), webhookKey, { timeoutMs: 5000 });
  const bad = await sendXeroWebhook(url, buildXeroIntentToReceive(), webhookKey, {
    timeoutMs: 5000,
    badSignature: true,
  });
  const problems: string[] = [];
  if (good.status !== 200) problems.push(`correctly signed payload answered ${good.status}, expected 200`);
  if (bad.status !== 401) problems.push(`wrongly signed payload answered ${bad.status}, expected 401`);
  if (good.body !== '' || bad.body !== '') problems.push('responses must have an empty body');
  return { passed: problems.length === 0, problems, good, bad };
}

/** Sends, then re-sends non-2xx answers and network errors on Xero's (scaled) schedule. */
export function deliverXeroWebhook(
  url: string,
  body: XeroWebhookPayload | string,
  webhookKey: string,
  options: RetryOptions & SendOptions = {},
): Promise<DeliveryResult> {
  return deliverWithRetries(
    () => sendXeroWebhook(url, body, webhookKey, options),
    XERO_RETRY_SCHEDULE_MS,
    undefined,
    options,
  );
}

// ---- QuickBooks ---------------------------------------------------------------------

/** Builds the legacy `eventNotifications` body for one realm. */
export function buildQuickBooksLegacyPayload(
  realmId: string,
  entities: QuickBooksEntityChange[],
): QuickBooksLegacyPayload {
  return {
    eventNotifications: [
      {
        realmId,
        dataChangeEvent: {
          entities: entities.map((e) => ({
            name: e.name,
            id: e.id,
            operation: e.operation,
            lastUpdated: isoInstant(e.lastUpdated ?? new Date()),
            ...(e.deletedId !== undefined ? { deletedId: e.deletedId } : {}),
          })),
        },
      },
    ],
  };
}

/** Builds the CloudEvents body (a JSON array) that replaces the legacy format. */
export function buildQuickBooksCloudEventsPayload(
  realmId: string,
  entities: QuickBooksEntityChange[],
  options: QuickBooksCloudEventsOptions = {},
): QuickBooksCloudEvent[] {
  const source = options.source ?? `intuit.${randomBytes(32).toString('base64')}`;
  return entities.map((e) => ({
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: `qbo.${e.name.toLowerCase()}.${pastTense(e.operation)}.v1`,
    datacontenttype: 'application/json',
    time: isoInstant(e.lastUpdated ?? new Date()),
    intuitentityid: e.id,
    intuitaccountid: realmId,
    data: { ...options.data, ...(e.deletedId !== undefined ? { deletedId: e.deletedId } : {}) },
  }));
}

/** base64(HMAC-SHA256(raw body, verifier token)), the `intuit-signature` value. */
export function signQuickBooks(rawBody: string | Buffer, verifierToken: string): string {
  return createHmac('sha256', verifierToken).update(rawBody).digest('base64');
}

/** Posts a QuickBooks webhook (either format) with its `intuit-signature`. */
export async function sendQuickBooksWebhook(
  url: string,
  body: QuickBooksLegacyPayload | QuickBooksCloudEvent[] | string,
  verifierToken: string,
  options: SendOptions = {},
): Promise<WebhookResponse> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const token = options.badSignature ? `${verifierToken}-forged` : verifierToken;
  return post(url, raw, { 'intuit-signature': signQuickBooks(raw, token) }, options);
}

/** Sends, then re-sends non-2xx answers and network errors on QuickBooks' (scaled) schedule. */
export function deliverQuickBooksWebhook(
  url: string,
  body: QuickBooksLegacyPayload | QuickBooksCloudEvent[] | string,
  verifierToken: string,
  options: RetryOptions & SendOptions = {},
): Promise<DeliveryResult> {
  return deliverWithRetries(
    () => sendQuickBooksWebhook(url, body, verifierToken, options),
    QUICKBOOKS_RETRY_SCHEDULE_MS,
    QUICKBOOKS_REPEAT_MS,
    options,
  );
}

// ---- shared -------------------------------------------------------------------------

/**
 * Calls `send` until it answers 2xx or the schedule (then `repeatMs`, if given) runs out;
 * the default attempt cap keeps an endless schedule finite.
 */
export async function deliverWithRetries(
  send: () => Promise<WebhookResponse>,
  schedule: readonly number[],
  repeatMs: number | undefined,
  options: RetryOptions = {},
): Promise<DeliveryResult> {
  const scale = options.scale ?? 1;
  const maxAttempts = options.maxAttempts ?? schedule.length;
  const attempts: DeliveryAttempt[] = [];
  for (let i = 0; i < maxAttempts; i += 1) {
    const scheduled = schedule[i] ?? repeatMs;
    if (scheduled === undefined) break;
    const scheduledDelayMs = Math.round(scheduled * scale);
    if (scheduledDelayMs > 0) await sleep(scheduledDelayMs, options.signal);
    if (options.signal?.aborted) break;
    let attempt: DeliveryAttempt;
    try {
      attempt = { attempt: i + 1, scheduledDelayMs, response: await send() };
    } catch (error) {
      attempt = { attempt: i + 1, scheduledDelayMs, error: error instanceof Error ? error.message : String(error) };
    }
    attempts.push(attempt);
    options.onAttempt?.(attempt);
    const status = attempt.response?.status;
    if (status !== undefined && status >= 200 && status < 300) return { delivered: true, attempts };
  }
  return { delivered: false, attempts };
}

async function post(
  url: string,
  raw: string,
  signatureHeaders: Record<string, string>,
  options: SendOptions,
): Promise<WebhookResponse> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': options.contentType ?? 'application/json', ...signatureHeaders, ...options.headers },
    body: raw,
    redirect: 'manual',
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const body = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { status: response.status, headers, body, durationMs: performance.now() - started };
}

// Xero writes event times as UTC without a zone designator: `2026-09-28T01:15:39.902`.
function xeroEventDate(value: string | Date): string {
  return typeof value === 'string' ? value : value.toISOString().replace(/Z$/, '');
}

function isoInstant(value: string | Date): string {
  return typeof value === 'string' ? value : value.toISOString();
}

function pastTense(operation: QuickBooksOperation): string {
  const map: Record<QuickBooksOperation, string> = {
    Create: 'created',
    Update: 'updated',
    Delete: 'deleted',
    Merge: 'merged',
    Void: 'voided',
    Emailed: 'emailed',
  };
  return map[operation];
}

// Xero's entropy is 20 random capital letters.
function entropy(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return Array.from(randomBytes(20), (b) => alphabet[b % 26]).join('');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
