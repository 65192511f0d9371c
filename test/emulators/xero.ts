// A local stand-in for Xero's identity server and Accounting API. It speaks Xero's wire
// shapes (Microsoft JSON dates, PascalCase envelopes, problem+json 401/403, rolling rate
// limits with X-*-Remaining headers) so that clients built against it behave the same
// against the real service. One process serves both identity.xero.com and api.xero.com.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConcurrencyGate, KeyedState, SlidingWindowCounter, admit } from './rate-limiter';
import type { Clock } from './rate-limiter';
import { close, delay, listen, safeEqual } from './http-helpers';
import { consentPage, pkceMatches, readChallenge, redirectBack, type PkceChallenge } from './oauth-consent';

export type XeroRateLimitProblem = 'minute' | 'day' | 'concurrent' | 'appminute';

export interface XeroLimits {
  perMinute: number;
  perDay: number;
  concurrent: number;
  appPerMinute: number;
}

export interface XeroClient {
  clientId: string;
  clientSecret: string;
  /** Reported as `ProviderName` in API envelopes, as Xero reports the app name. */
  name?: string;
  /** Tenants a client-credentials (custom connection) token may reach; all tenants when omitted. */
  tenantIds?: string[];
}

export interface XeroEmulatorOptions {
  port?: number;
  host?: string;
  limits?: Partial<XeroLimits>;
  /** Window lengths, shortened only by demos that want to see windows roll in real time. */
  windowMs?: { minute?: number; day?: number };
  accessTokenTtlSeconds?: number;
  refreshTokenReuseGraceSeconds?: number;
  /** A refresh token not exchanged within this time is dead (Xero: 60 days). */
  refreshTokenTtlSeconds?: number;
  latencyMs?: number;
  /** Delay before the token endpoint answers (the grant is decided after it, as a slow server would). */
  tokenLatencyMs?: number;
  clients?: XeroClient[];
  tenants?: { tenantId: string; name?: string }[];
  /** Longer request targets are refused by the gateway with 414 (Xero caps `IDs` near 50 GUIDs). */
  maxUrlLength?: number;
  maxIdsPerRequest?: number;
  now?: Clock;
}

export interface XeroFaultOptions {
  retryAfter?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Which surface fails: the Accounting API (default) or the token endpoint. */
  target?: 'api' | 'token';
  /** `X-Rate-Limit-Problem` for an injected 429. */
  problem?: XeroRateLimitProblem;
}

export interface XeroTenant {
  tenantId: string;
  tenantName: string;
  tenantType: 'ORGANISATION';
  createdDateUtc: string;
}

export interface XeroContactRef {
  ContactID: string;
  Name: string;
}

export interface XeroLineItem {
  LineItemID: string;
  Description: string;
  Quantity: number;
  UnitAmount: number;
  AccountCode: string;
  TaxType: string;
  TaxAmount: number;
  LineAmount: number;
}

export type XeroLineItemInput = Partial<XeroLineItem>;
export type XeroInvoiceStatus = 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';

export interface XeroInvoice {
  Type: 'ACCREC' | 'ACCPAY';
  InvoiceID: string;
  InvoiceNumber: string;
  Reference: string;
  Status: XeroInvoiceStatus;
  LineAmountTypes: 'Exclusive';
  Contact: XeroContactRef;
  Date: string;
  DateString: string;
  DueDate: string;
  DueDateString: string;
  LineItems: XeroLineItem[];
  SubTotal: number;
  TotalTax: number;
  Total: number;
  AmountDue: number;
  AmountPaid: number;
  AmountCredited: number;
  CurrencyCode: string;
  CurrencyRate: number;
  HasAttachments: boolean;
  UpdatedDateUTC: string;
}

export interface XeroInvoiceInput {
  InvoiceID?: string;
  InvoiceNumber?: string;
  Type?: XeroInvoice['Type'];
  Reference?: string;
  Status?: XeroInvoiceStatus;
  Contact?: Partial<XeroContactRef>;
  /** Calendar dates as `YYYY-MM-DD`. */
  Date?: string;
  DueDate?: string;
  LineItems?: XeroLineItemInput[];
  /** Without `LineItems`, becomes a single untaxed line of this amount. */
  Total?: number;
  AmountPaid?: number;
  AmountCredited?: number;
  CurrencyCode?: string;
}

export interface XeroContact {
  ContactID: string;
  ContactNumber: string;
  ContactStatus: 'ACTIVE' | 'ARCHIVED';
  Name: string;
  FirstName: string;
  LastName: string;
  EmailAddress: string;
  IsSupplier: boolean;
  IsCustomer: boolean;
  DefaultCurrency: string;
  Addresses: { AddressType: 'POBOX' | 'STREET'; City?: string; Country?: string }[];
  Phones: { PhoneType: 'DEFAULT' | 'MOBILE'; PhoneNumber?: string }[];
  HasAttachments: boolean;
  UpdatedDateUTC: string;
}

export type XeroContactInput = Partial<Omit<XeroContact, 'UpdatedDateUTC'>>;

export interface XeroCreditNote {
  Type: 'ACCRECCREDIT' | 'ACCPAYCREDIT';
  CreditNoteID: string;
  CreditNoteNumber: string;
  Reference: string;
  Status: 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';
  LineAmountTypes: 'Exclusive';
  Contact: XeroContactRef;
  Date: string;
  DateString: string;
  LineItems: XeroLineItem[];
  SubTotal: number;
  TotalTax: number;
  Total: number;
  RemainingCredit: number;
  CurrencyCode: string;
  CurrencyRate: number;
  HasAttachments: boolean;
  UpdatedDateUTC: string;
}

export interface XeroCreditNoteInput {
  CreditNoteID?: string;
  CreditNoteNumber?: string;
  Type?: XeroCreditNote['Type'];
  Reference?: string;
  Status?: XeroCreditNote['Status'];
  Contact?: Partial<XeroContactRef>;
  Date?: string;
  LineItems?: XeroLineItemInput[];
  Total?: number;
  RemainingCredit?: number;
  CurrencyCode?: string;
}

export interface XeroStats {
  /** Every request that reached an API route, whatever its outcome. */
  apiCalls: number;
  /** Calls admitted past authentication and rate limits (the ones that cost quota). */
  apiCallsServed: number;
  callsByEndpoint: Record<string, number>;
  /** Resource ids asked for through `IDs`/`ContactIDs`, to judge how well callers batch. */
  idsRequested: number;
  rateLimited: Record<XeroRateLimitProblem, number>;
  unauthorized: number;
  forbidden: number;
  faultsInjected: number;
  tokenGrants: number;
  tokenRefreshes: number;
  tokenGrantsByType: Record<string, number>;
  tokenErrors: number;
  /** Refresh tokens revoked through `/connect/revocation`. */
  revocations: number;
  /** Consent screens shown by the authorize endpoint, and how they were answered. */
  consentsShown: number;
  consentsAllowed: number;
  consentsDenied: number;
  maxConcurrencyByTenant: Record<string, number>;
}

export interface XeroEmulator {
  readonly url: string;
  readonly port: number;
  /** Closes the listener and every open socket. */
  stop(): Promise<void>;
  registerClient(client: XeroClient): void;
  /** Issues a one-time code, as Xero's consent screen would after a user approves the app. */
  issueAuthorizationCode(input: {
    clientId: string;
    tenantIds?: string[];
    scope?: string;
    redirectUri?: string;
  }): string;
  expireAllTokens(): void;
  revokeRefreshTokens(): void;
  /** The next `n` calls to the target surface answer `status` instead of being served. */
  failNext(n: number, status: number, options?: XeroFaultOptions): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  /** Delays the token endpoint's answers (to race refreshers). */
  setTokenLatency(ms: number): void;
  /** Whether a refresh token is still live (not revoked; rotation keeps it for the grace period). */
  hasRefreshToken(token: string): boolean;
  setLimits(limits: Partial<XeroLimits>): void;
  /** Moves the emulator's clock forward, rolling rate windows and expiring tokens without waiting. */
  advanceTime(ms: number): void;
  now(): number;
  addTenant(tenantId: string, name?: string): XeroTenant;
  upsertInvoice(tenantId: string, input: XeroInvoiceInput): XeroInvoice;
  getInvoice(tenantId: string, invoiceId: string): XeroInvoice | undefined;
  listInvoices(tenantId: string): XeroInvoice[];
  upsertContact(tenantId: string, input: XeroContactInput): XeroContact;
  getContact(tenantId: string, contactId: string): XeroContact | undefined;
  upsertCreditNote(tenantId: string, input: XeroCreditNoteInput): XeroCreditNote;
  getCreditNote(tenantId: string, creditNoteId: string): XeroCreditNote | undefined;
  stats(): XeroStats;
  resetStats(): void;
  /** Empties every rate window, as if a quiet day had passed. */
  resetRateLimits(): void;
}

const DEFAULT_LIMITS: XeroLimits = { perMinute: 60, perDay: 5000, concurrent: 5, appPerMinute: 10_000 };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AUTH_CODE_TTL_MS = 5 * 60_000;
const DEFAULT_SCOPE = 'accounting.transactions accounting.contacts';
const NOT_FOUND_TEXT = "The resource you're looking for cannot be found";

interface Stored<T> {
  value: T;
  updatedMs: number;
}

interface TenantData {
  tenant: XeroTenant;
  invoices: Map<string, Stored<XeroInvoice>>;
  contacts: Map<string, Stored<XeroContact>>;
  creditNotes: Map<string, Stored<XeroCreditNote>>;
  lastStampMs: number;
  counters: { invoice: number; creditNote: number; contact: number };
}

type TenantScope = readonly string[] | 'all';

interface AccessGrant {
  clientId: string;
  /** The consent (authorisation) the token descends from; revocation ends all of them. */
  authId: string;
  tenants: TenantScope;
  scope: string;
  expiresAtMs: number;
  grantType: string;
}

interface RefreshGrant {
  clientId: string;
  authId: string;
  tenants: TenantScope;
  scope: string;
  issuedAtMs: number;
  supersededAtMs: number | undefined;
}

interface AuthCode {
  clientId: string;
  tenants: TenantScope;
  scope: string;
  redirectUri: string | undefined;
  expiresAtMs: number;
  pkce: PkceChallenge | undefined;
}

interface Fault {
  remaining: number;
  status: number;
  options: XeroFaultOptions;
}

interface TenantLimits {
  minute: SlidingWindowCounter;
  day: SlidingWindowCounter;
  gate: ConcurrencyGate;
}

/** Starts a Xero emulator on an ephemeral port (unless `port` is given). */
export async function startXeroEmulator(options: XeroEmulatorOptions = {}): Promise<XeroEmulator> {
  const baseClock = options.now ?? Date.now;
  let clockOffsetMs = 0;
  const now = (): number => baseClock() + clockOffsetMs;

  const limits: XeroLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const minuteMs = options.windowMs?.minute ?? 60_000;
  const dayMs = options.windowMs?.day ?? 86_400_000;
  const accessTtlMs = (options.accessTokenTtlSeconds ?? 1800) * 1000;
  const graceMs = (options.refreshTokenReuseGraceSeconds ?? 1800) * 1000;
  const refreshTtlMs = (options.refreshTokenTtlSeconds ?? 60 * 86_400) * 1000;
  const maxUrlLength = options.maxUrlLength ?? 2048;
  const maxIds = options.maxIdsPerRequest ?? 60;
  let latencyMs = options.latencyMs ?? 0;
  let tokenLatencyMs = options.tokenLatencyMs ?? 0;

  const clients = new Map<string, XeroClient>();
  const accessTokens = new Map<string, AccessGrant>();
  const refreshTokens = new Map<string, RefreshGrant>();
  const authCodes = new Map<string, AuthCode>();
  const tenants = new Map<string, TenantData>();
  const faults: Fault[] = [];

  const tenantLimits = new KeyedState<TenantLimits>(() => ({
    minute: new SlidingWindowCounter(limits.perMinute, minuteMs),
    day: new SlidingWindowCounter(limits.perDay, dayMs),
    gate: new ConcurrencyGate(limits.concurrent),
  }));
  const appMinute = new SlidingWindowCounter(limits.appPerMinute, minuteMs);

  let stats = emptyStats();

  for (const client of options.clients ?? []) clients.set(client.clientId, { ...client });
  for (const tenant of options.tenants ?? []) addTenant(tenant.tenantId, tenant.name);

  // ---- data ---------------------------------------------------------------------------

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

  // Strictly increasing per tenant, so If-Modified-Since catch-up sees every change in order.
  function stamp(data: TenantData): number {
    data.lastStampMs = Math.max(now(), data.lastStampMs + 1);
    return data.lastStampMs;
  }

  function newId(given: string | undefined, what: string): string {
    if (given === undefined) return randomUUID();
    if (!GUID.test(given)) throw new Error(`Xero emulator: ${what} must be a GUID, got ${given}`);
    return given.toLowerCase();
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

  function upsertInvoice(tenantId: string, input: XeroInvoiceInput): XeroInvoice {
    const data = requireTenant(tenantId);
    const id = newId(input.InvoiceID, 'InvoiceID');
    const previous = data.invoices.get(id)?.value;
    if (!previous) data.counters.invoice += 1;
    const contact = resolveContact(data, input.Contact, previous?.Contact);
    const lines = buildLines(input.LineItems, input.Total, previous?.LineItems);
    const totals = sumLines(lines);
    const status = input.Status ?? previous?.Status ?? 'AUTHORISED';
    const amountCredited = input.AmountCredited ?? previous?.AmountCredited ?? 0;
    const amountPaid =
      input.AmountPaid ?? (status === 'PAID' ? totals.Total - amountCredited : (previous?.AmountPaid ?? 0));
    const date = input.Date ?? dayOf(previous?.DateString) ?? isoDay(now());
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
    const contact = resolveContact(data, input.Contact, previous?.Contact);
    const lines = buildLines(input.LineItems, input.Total, previous?.LineItems);
    const totals = sumLines(lines);
    const date = input.Date ?? dayOf(previous?.DateString) ?? isoDay(now());
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

  function readStored<T>(map: Map<string, Stored<T>>, id: string): T | undefined {
    const stored = map.get(id.toLowerCase());
    return stored ? structuredClone(stored.value) : undefined;
  }

  // ---- OAuth --------------------------------------------------------------------------

  function token(): string {
    return randomBytes(32).toString('base64url');
  }

  function issueAccess(clientId: string, authId: string, tenantScope: TenantScope, scope: string, grantType: string) {
    const accessToken = token();
    accessTokens.set(accessToken, {
      clientId,
      authId,
      tenants: tenantScope,
      scope,
      expiresAtMs: now() + accessTtlMs,
      grantType,
    });
    return { access_token: accessToken, expires_in: Math.round(accessTtlMs / 1000), token_type: 'Bearer', scope };
  }

  function issueRefresh(clientId: string, authId: string, tenantScope: TenantScope, scope: string): string {
    const refreshToken = token();
    refreshTokens.set(refreshToken, {
      clientId,
      authId,
      tenants: tenantScope,
      scope,
      issuedAtMs: now(),
      supersededAtMs: undefined,
    });
    return refreshToken;
  }

  function authenticateClient(req: Request): XeroClient | undefined {
    const body = formBody(req);
    let id = body['client_id'];
    let secret = body['client_secret'];
    const header = req.get('authorization');
    if (header?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        id = decoded.slice(0, colon);
        secret = decoded.slice(colon + 1);
      }
    }
    const client = id === undefined ? undefined : clients.get(id);
    return client && secret !== undefined && safeEqual(secret, client.clientSecret) ? client : undefined;
  }

  async function tokenEndpoint(req: Request, res: Response): Promise<void> {
    if (tokenLatencyMs > 0) await delay(tokenLatencyMs, res);
    if (res.destroyed) return;
    res.set('Cache-Control', 'no-store');
    if (takeFault('token', res)) return;
    const client = authenticateClient(req);
    if (!client) {
      stats.tokenErrors += 1;
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    const body = formBody(req);
    const grantType = body['grant_type'];
    const fail = (status: number, error: string): void => {
      stats.tokenErrors += 1;
      res.status(status).json({ error });
    };
    const granted = (payload: object): void => {
      stats.tokenGrants += 1;
      stats.tokenGrantsByType[grantType ?? ''] = (stats.tokenGrantsByType[grantType ?? ''] ?? 0) + 1;
      res.json(payload);
    };

    if (grantType === 'client_credentials') {
      const scope = body['scope'] ?? DEFAULT_SCOPE;
      // Custom connections carry no refresh token: the client simply asks again.
      granted(issueAccess(client.clientId, randomUUID(), client.tenantIds ?? 'all', scope, grantType));
      return;
    }
    if (grantType === 'authorization_code') {
      const code = body['code'];
      const entry = code === undefined ? undefined : authCodes.get(code);
      if (code === undefined) return fail(400, 'invalid_request');
      authCodes.delete(code);
      if (!entry || entry.clientId !== client.clientId || entry.expiresAtMs < now()) return fail(400, 'invalid_grant');
      if (entry.redirectUri !== undefined && entry.redirectUri !== body['redirect_uri'])
        return fail(400, 'invalid_grant');
      // PKCE: a code issued with a challenge is only redeemed with the matching verifier.
      if (!pkceMatches(entry.pkce, body['code_verifier'])) return fail(400, 'invalid_grant');
      const authId = randomUUID();
      const refreshToken = issueRefresh(client.clientId, authId, entry.tenants, entry.scope);
      granted({
        ...issueAccess(client.clientId, authId, entry.tenants, entry.scope, grantType),
        refresh_token: refreshToken,
      });
      return;
    }
    if (grantType === 'refresh_token') {
      const presented = body['refresh_token'];
      if (presented === undefined) return fail(400, 'invalid_request');
      const entry = refreshTokens.get(presented);
      const at = now();
      if (!entry || entry.clientId !== client.clientId || entry.issuedAtMs + refreshTtlMs < at) {
        return fail(400, 'invalid_grant');
      }
      // Rotation: the presented token stays usable for the grace period so that a caller
      // that lost the response (or a racing worker) can still recover.
      if (entry.supersededAtMs !== undefined && entry.supersededAtMs + graceMs < at) return fail(400, 'invalid_grant');
      entry.supersededAtMs ??= at;
      stats.tokenRefreshes += 1;
      const refreshToken = issueRefresh(client.clientId, entry.authId, entry.tenants, entry.scope);
      granted({
        ...issueAccess(client.clientId, entry.authId, entry.tenants, entry.scope, grantType),
        refresh_token: refreshToken,
      });
      return;
    }
    fail(400, 'unsupported_grant_type');
  }

  // Connection ids are stable per tenant, so DELETE /connections/{id} can name one.
  const connectionIds = new Map<string, string>();
  function connectionId(tenantId: string): string {
    for (const [id, t] of connectionIds) if (t === tenantId) return id;
    const id = randomUUID();
    connectionIds.set(id, tenantId);
    return id;
  }

  /** The consent screen of login.xero.com: the signed-in user picks the organisations to connect. */
  function authorizeEndpoint(req: Request, res: Response): void {
    const q = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
    const client = q['client_id'] === undefined ? undefined : clients.get(q['client_id']);
    const redirectUri = q['redirect_uri'];
    // Without a known client or a redirect URI there is nowhere safe to send an error.
    if (!client || !redirectUri || !/^https?:\/\//.test(redirectUri)) {
      res.status(400).type('text/html').send('<h1>Error</h1><p>unauthorized_client or invalid redirect_uri</p>');
      return;
    }
    const pkce = readChallenge(q);
    if (q['response_type'] !== 'code' || pkce === 'invalid' || !q['scope']) {
      res.redirect(302, redirectBack(redirectUri, { error: 'invalid_request', state: q['state'] }));
      return;
    }
    stats.consentsShown += 1;
    res
      .type('text/html')
      .set('Cache-Control', 'no-store')
      .send(
        consentPage({
          provider: 'Xero',
          appName: client.name ?? client.clientId,
          scope: q['scope'],
          action: '/identity/connect/authorize',
          hidden: Object.fromEntries(
            ['client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method']
              .filter((k) => q[k] !== undefined)
              .map((k) => [k, q[k]!]),
          ),
          choiceName: 'tenant',
          choiceLabel: 'Select the organisations to connect',
          choices: [...tenants.values()].map((d) => ({ value: d.tenant.tenantId, label: d.tenant.tenantName })),
          multiple: true,
        }),
      );
  }

  function consentAnswer(req: Request, res: Response): void {
    const body = formBody(req);
    const client = body['client_id'] === undefined ? undefined : clients.get(body['client_id']);
    const redirectUri = body['redirect_uri'];
    if (!client || !redirectUri || !/^https?:\/\//.test(redirectUri)) {
      res.status(400).type('text/html').send('<h1>Error</h1><p>invalid consent form</p>');
      return;
    }
    const raw = (req.body as Record<string, unknown>)['tenant'];
    const chosen = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
      .map(String)
      .filter((t) => tenants.has(t));
    if (body['decision'] !== 'allow' || chosen.length === 0) {
      stats.consentsDenied += 1;
      res.redirect(302, redirectBack(redirectUri, { error: 'access_denied', state: body['state'] }));
      return;
    }
    const pkce = readChallenge(body);
    stats.consentsAllowed += 1;
    const code = token();
    authCodes.set(code, {
      clientId: client.clientId,
      tenants: chosen,
      scope: body['scope'] ?? DEFAULT_SCOPE,
      redirectUri,
      expiresAtMs: now() + AUTH_CODE_TTL_MS,
      pkce: pkce === 'invalid' ? undefined : pkce,
    });
    res.redirect(302, redirectBack(redirectUri, { code, state: body['state'], scope: body['scope'] }));
  }

  /** RFC 7009 revocation: ends the refresh token's whole authorisation (and with it the connections). */
  function revocationEndpoint(req: Request, res: Response): void {
    const client = authenticateClient(req);
    if (!client) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    const presented = formBody(req)['token'];
    if (presented === undefined) {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
    const grant = refreshTokens.get(presented) ?? accessTokens.get(presented);
    if (grant && grant.clientId === client.clientId) {
      stats.revocations += 1;
      for (const [t, g] of refreshTokens) if (g.authId === grant.authId) refreshTokens.delete(t);
      for (const [t, g] of accessTokens) if (g.authId === grant.authId) accessTokens.delete(t);
    }
    // Unknown tokens are answered 200 too (RFC 7009 §2.2).
    res.status(200).end();
  }

  // ---- API pipeline -------------------------------------------------------------------

  function takeFault(target: 'api' | 'token', res: Response): boolean {
    const index = faults.findIndex((fault) => (fault.options.target ?? 'api') === target);
    const fault = faults[index];
    if (!fault) return false;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    stats.faultsInjected += 1;
    const { status, options: fo } = fault;
    if (fo.retryAfter !== undefined) res.set('Retry-After', String(fo.retryAfter));
    if (status === 429) {
      res.set('X-Rate-Limit-Problem', fo.problem ?? 'minute');
      if (fo.retryAfter === undefined) res.set('Retry-After', '60');
    }
    if (fo.headers) res.set(fo.headers);
    res.status(status);
    if (fo.body === undefined) {
      if (status === 429) res.end();
      else res.json(problem(status, defaultFaultDetail(status)));
    } else if (typeof fo.body === 'string') res.type('text/plain').send(fo.body);
    else res.json(fo.body);
    return true;
  }

  function bearer(req: Request): { grant: AccessGrant } | { detail: string } {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const grant = match?.[1] === undefined ? undefined : accessTokens.get(match[1]);
    if (!grant) return { detail: 'AuthenticationUnsuccessful' };
    if (grant.expiresAtMs <= now())
      return { detail: `TokenExpired: token expired at ${xeroClockTime(grant.expiresAtMs)}` };
    return { grant };
  }

  function tenantFor(req: Request, grant: AccessGrant): TenantData | undefined {
    const requested = req.get('xero-tenant-id')?.trim().toLowerCase();
    const allowed = (id: string): boolean =>
      grant.tenants === 'all' || grant.tenants.some((t) => t.toLowerCase() === id);
    if (requested) return allowed(requested) ? findTenant(requested) : undefined;
    // A custom connection is bound to one organisation, so Xero lets it omit the header.
    if (grant.grantType === 'client_credentials' && grant.tenants !== 'all' && grant.tenants.length === 1) {
      return findTenant(grant.tenants[0]?.toLowerCase() ?? '');
    }
    return undefined;
  }

  function findTenant(lowerId: string): TenantData | undefined {
    for (const [id, data] of tenants) if (id.toLowerCase() === lowerId) return data;
    return undefined;
  }

  function setRemaining(res: Response, tl: TenantLimits | undefined): void {
    const at = now();
    if (tl) {
      res.set('X-DayLimit-Remaining', String(tl.day.remaining(at)));
      res.set('X-MinLimit-Remaining', String(tl.minute.remaining(at)));
    }
    res.set('X-AppMinLimit-Remaining', String(appMinute.remaining(at)));
  }

  type ApiHandler = (req: Request, res: Response, data: TenantData, client: XeroClient | undefined) => void;

  function apiRoute(endpoint: string, handler: ApiHandler): RequestHandler {
    return async (req, res) => {
      stats.apiCalls += 1;
      stats.callsByEndpoint[endpoint] = (stats.callsByEndpoint[endpoint] ?? 0) + 1;
      if (req.originalUrl.length > maxUrlLength) {
        // The gateway refuses before the API sees the call, so no quota is spent.
        res.status(414).type('text/html').send('<html><body><h1>414 Request-URI Too Large</h1></body></html>');
        return;
      }
      if (takeFault('api', res)) return;
      const auth = bearer(req);
      if ('detail' in auth) {
        stats.unauthorized += 1;
        setRemaining(res, undefined);
        res.status(401).json(problem(401, auth.detail));
        return;
      }
      const data = tenantFor(req, auth.grant);
      if (!data) {
        stats.forbidden += 1;
        setRemaining(res, undefined);
        res.status(403).json(problem(403, 'AuthenticationUnsuccessful'));
        return;
      }
      const tl = tenantLimits.get(data.tenant.tenantId);
      const admission = admit(
        [
          { problem: 'day' as const, counter: tl.day },
          { problem: 'minute' as const, counter: tl.minute },
          { problem: 'appminute' as const, counter: appMinute },
        ],
        { problem: 'concurrent', gate: tl.gate },
        now(),
      );
      if (!admission.ok) {
        stats.rateLimited[admission.problem] += 1;
        setRemaining(res, tl);
        res.set('Retry-After', String(admission.retryAfterSeconds));
        res.set('X-Rate-Limit-Problem', admission.problem);
        res.status(429).end();
        return;
      }
      // 'close' fires on completion and on client abort alike, so the slot always returns.
      res.once('close', admission.release);
      try {
        stats.apiCallsServed += 1;
        setRemaining(res, tl);
        if (latencyMs > 0) await delay(latencyMs, res);
        if (res.destroyed) return;
        handler(req, res, data, clients.get(auth.grant.clientId));
      } finally {
        if (res.writableEnded || res.destroyed) admission.release();
      }
    };
  }

  function envelope(client: XeroClient | undefined, key: string, items: unknown[], extra: object = {}): object {
    return {
      Id: randomUUID(),
      Status: 'OK',
      ProviderName: client?.name ?? 'Switchyard',
      DateTimeUTC: `/Date(${now()})/`,
      ...extra,
      [key]: items,
    };
  }

  interface Collection<T> {
    key: string;
    idField: string;
    numberField: string | undefined;
    items: (data: TenantData) => Map<string, Stored<T>>;
    filters: (req: Request) => (item: T) => boolean;
  }

  function listRoute<T>(c: Collection<T>): ApiHandler {
    return (req, res, data, client) => {
      const idList = [
        ...splitList(query(req, 'IDs')),
        ...(c.key === 'Contacts' ? splitList(query(req, 'ContactIDs')) : []),
      ];
      stats.idsRequested += idList.length;
      if (idList.length > maxIds) {
        res.status(400).json(apiException(`The number of IDs (${idList.length}) exceeds the maximum of ${maxIds}`));
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

  function singleRoute<T>(c: Collection<T>): ApiHandler {
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

  const invoicesCollection: Collection<XeroInvoice> = {
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
  const contactsCollection: Collection<XeroContact> = {
    key: 'Contacts',
    idField: 'ContactID',
    numberField: 'ContactNumber',
    items: (data) => data.contacts,
    filters: () => () => true,
  };
  const creditNotesCollection: Collection<XeroCreditNote> = {
    key: 'CreditNotes',
    idField: 'CreditNoteID',
    numberField: 'CreditNoteNumber',
    items: (data) => data.creditNotes,
    filters: () => () => true,
  };

  // ---- HTTP ---------------------------------------------------------------------------

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/connect/token', express.urlencoded({ extended: false, limit: '16kb' }), tokenEndpoint);
  app.get('/identity/connect/authorize', authorizeEndpoint);
  app.post('/identity/connect/authorize', express.urlencoded({ extended: false, limit: '16kb' }), consentAnswer);
  app.post('/connect/revocation', express.urlencoded({ extended: false, limit: '16kb' }), revocationEndpoint);
  app.delete('/connections/:id', (req, res) => {
    const auth = bearer(req);
    if ('detail' in auth) {
      res.status(401).json(problem(401, auth.detail));
      return;
    }
    const tenantId = connectionIds.get(String(req.params['id']));
    if (!tenantId) {
      res.status(404).json(problem(404, 'Connection not found'));
      return;
    }
    for (const grant of [...accessTokens.values(), ...refreshTokens.values()]) {
      if (grant.authId === auth.grant.authId && grant.tenants !== 'all') {
        grant.tenants = grant.tenants.filter((t) => t.toLowerCase() !== tenantId.toLowerCase());
      }
    }
    res.status(204).end();
  });
  app.get('/connections', (req, res) => {
    const auth = bearer(req);
    if ('detail' in auth) {
      res.status(401).json(problem(401, auth.detail));
      return;
    }
    const visible = [...tenants.values()].filter(
      (d) => auth.grant.tenants === 'all' || auth.grant.tenants.includes(d.tenant.tenantId),
    );
    res.json(
      visible.map((d) => ({
        id: connectionId(d.tenant.tenantId),
        authEventId: randomUUID(),
        tenantId: d.tenant.tenantId,
        tenantType: d.tenant.tenantType,
        tenantName: d.tenant.tenantName,
        createdDateUtc: d.tenant.createdDateUtc,
        updatedDateUtc: d.tenant.createdDateUtc,
      })),
    );
  });
  app.get('/api.xro/2.0/Invoices', apiRoute('GET /Invoices', listRoute(invoicesCollection)));
  app.get('/api.xro/2.0/Invoices/:id', apiRoute('GET /Invoices/{id}', singleRoute(invoicesCollection)));
  app.get('/api.xro/2.0/Contacts', apiRoute('GET /Contacts', listRoute(contactsCollection)));
  app.get('/api.xro/2.0/Contacts/:id', apiRoute('GET /Contacts/{id}', singleRoute(contactsCollection)));
  app.get('/api.xro/2.0/CreditNotes', apiRoute('GET /CreditNotes', listRoute(creditNotesCollection)));
  app.get('/api.xro/2.0/CreditNotes/:id', apiRoute('GET /CreditNotes/{id}', singleRoute(creditNotesCollection)));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send(NOT_FOUND_TEXT);
  });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    res.status(500).json(problem(500, defaultFaultDetail(500)));
  });

  const server = await listen(app, options.port ?? 0, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(address.address)}:${address.port}`;

  return {
    url,
    port: address.port,
    stop: () => close(server),
    registerClient: (client) => void clients.set(client.clientId, { ...client }),
    issueAuthorizationCode: (input) => {
      if (!clients.has(input.clientId)) throw new Error(`Xero emulator: unknown client ${input.clientId}`);
      const code = token();
      authCodes.set(code, {
        clientId: input.clientId,
        tenants: input.tenantIds ?? 'all',
        scope: input.scope ?? `offline_access ${DEFAULT_SCOPE}`,
        redirectUri: input.redirectUri,
        expiresAtMs: now() + AUTH_CODE_TTL_MS,
        pkce: undefined,
      });
      return code;
    },
    expireAllTokens: () => {
      const at = now();
      for (const grant of accessTokens.values()) grant.expiresAtMs = Math.min(grant.expiresAtMs, at);
    },
    revokeRefreshTokens: () => refreshTokens.clear(),
    failNext: (n, status, faultOptions = {}) => {
      if (n > 0) faults.push({ remaining: n, status, options: faultOptions });
    },
    clearFaults: () => void faults.splice(0),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setTokenLatency: (ms) => {
      tokenLatencyMs = ms;
    },
    hasRefreshToken: (t) => refreshTokens.has(t),
    setLimits: (next) => {
      Object.assign(limits, next);
      appMinute.limit = limits.appPerMinute;
      for (const [, tl] of tenantLimits.values()) {
        tl.minute.limit = limits.perMinute;
        tl.day.limit = limits.perDay;
        tl.gate.limit = limits.concurrent;
      }
    },
    advanceTime: (ms) => {
      clockOffsetMs += ms;
    },
    now,
    addTenant,
    upsertInvoice,
    getInvoice: (tenantId, id) => readStored(requireTenant(tenantId).invoices, id),
    listInvoices: (tenantId) => [...requireTenant(tenantId).invoices.values()].map((s) => structuredClone(s.value)),
    upsertContact,
    getContact: (tenantId, id) => readStored(requireTenant(tenantId).contacts, id),
    upsertCreditNote,
    getCreditNote: (tenantId, id) => readStored(requireTenant(tenantId).creditNotes, id),
    stats: () => {
      const snapshot = structuredClone(stats);
      for (const [tenantId, tl] of tenantLimits.values())
        snapshot.maxConcurrencyByTenant[tenantId] = tl.gate.maxObserved;
      return snapshot;
    },
    resetStats: () => {
      stats = emptyStats();
      for (const [, tl] of tenantLimits.values()) tl.gate.resetPeak();
    },
    resetRateLimits: () => {
      appMinute.reset();
      for (const [, tl] of tenantLimits.values()) {
        tl.minute.reset();
        tl.day.reset();
      }
    },
  };
}

// ---- wire helpers -------------------------------------------------------------------

function emptyStats(): XeroStats {
  return {
    apiCalls: 0,
    apiCallsServed: 0,
    callsByEndpoint: {},
    idsRequested: 0,
    rateLimited: { minute: 0, day: 0, concurrent: 0, appminute: 0 },
    unauthorized: 0,
    forbidden: 0,
    faultsInjected: 0,
    tokenGrants: 0,
    tokenRefreshes: 0,
    tokenGrantsByType: {},
    tokenErrors: 0,
    revocations: 0,
    consentsShown: 0,
    consentsAllowed: 0,
    consentsDenied: 0,
    maxConcurrencyByTenant: {},
  };
}

function problem(status: number, detail: string): object {
  const titles: Record<number, string> = {
    401: 'Unauthorized',
    403: 'Forbidden',
    500: 'An error occurred',
    503: 'Service Unavailable',
  };
  return {
    Type: null,
    Title: titles[status] ?? 'Error',
    Status: status,
    Detail: detail,
    Instance: randomUUID(),
    Extensions: {},
  };
}

function apiException(message: string): object {
  return { ErrorNumber: 16, Type: 'QueryParseException', Message: message };
}

function defaultFaultDetail(status: number): string {
  return status === 503
    ? 'The Xero API is temporarily unavailable'
    : 'An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status.';
}

/** Formats epoch milliseconds the way Xero's API dates look: `/Date(1700000000000+0000)/`. */
export function msDate(ms: number): string {
  return `/Date(${ms}+0000)/`;
}

/** Reads a Xero `/Date(…)/` value back into epoch milliseconds (undefined when it is not one). */
export function parseMsDate(value: string): number | undefined {
  const match = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(value);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function calendarDate<K extends string>(key: K, isoDate: string) {
  const ms = Date.parse(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`Xero emulator: ${key} must be YYYY-MM-DD, got ${isoDate}`);
  return { [key]: msDate(ms), [`${key}String`]: `${isoDate}T00:00:00` } as Record<K | `${K}String`, string>;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function dayOf(dateString: string | undefined): string | undefined {
  return dateString?.slice(0, 10);
}

// Xero states token expiry in US-style UTC clock time.
function xeroClockTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(
    d.getUTCMinutes(),
  )}:${two(d.getUTCSeconds())}`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
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

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
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

// Xero accepts both RFC 1123 dates and bare ISO timestamps, the latter meaning UTC.
function parseIfModifiedSince(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const bareIso = /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$/.test(header.trim());
  const ms = Date.parse(bareIso ? `${header.trim()}${header.includes('T') ? '' : 'T00:00:00'}Z` : header);
  return Number.isNaN(ms) ? undefined : ms;
}

function formBody(req: Request): Record<string, string | undefined> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return {};
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
