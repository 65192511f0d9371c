// A local stand-in for Intuit's OAuth server and the QuickBooks Online Accounting API
// (v3): entity reads, the SQL-like query language, /batch and change data capture, with
// QuickBooks' Fault envelopes and per-realm throttling. Timestamps keep QuickBooks'
// second precision and a local UTC offset, as real company files do.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConcurrencyGate, KeyedState, SlidingWindowCounter, admit } from './rate-limiter';
import type { Clock, WindowRule } from './rate-limiter';
import { z } from 'zod';
import { close, delay, listen, safeEqual } from './http-helpers';
import { consentPage, pkceMatches, readChallenge, redirectBack, type PkceChallenge } from './oauth-consent';

export type QuickBooksRateLimitProblem = 'minute' | 'second' | 'concurrent' | 'batch';

export interface QuickBooksLimits {
  perMinute: number;
  perSecond: number;
  concurrent: number;
  batchPerMinute: number;
  maxBatchItems: number;
}

export interface QuickBooksClient {
  clientId: string;
  clientSecret: string;
  /** Shown on the consent page. */
  name?: string;
}

export interface QuickBooksEmulatorOptions {
  port?: number;
  host?: string;
  limits?: Partial<QuickBooksLimits>;
  windowMs?: { second?: number; minute?: number };
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  /** How long a rotated-out refresh token keeps working; 0 (default) rejects it at once. */
  refreshTokenReuseGraceSeconds?: number;
  /** `Retry-After` on a 429: seconds, 'window' for the real time until a slot frees, null to omit. */
  retryAfterSeconds?: number | 'window' | null;
  latencyMs?: number;
  /** Delay before the token endpoint answers (the grant is decided after it, as a slow server would). */
  tokenLatencyMs?: number;
  clients?: QuickBooksClient[];
  realms?: { realmId: string; companyName?: string }[];
  /** Offset of the company's local time, used in every timestamp the API writes. */
  utcOffsetMinutes?: number;
  cdcMaxDays?: number;
  cdcMaxObjects?: number;
  now?: Clock;
}

export interface QuickBooksFaultOptions {
  retryAfter?: number;
  body?: unknown;
  headers?: Record<string, string>;
  target?: 'api' | 'token';
}

export interface QboRef {
  value: string;
  name?: string;
}

export interface QboMetaData {
  CreateTime: string;
  LastUpdatedTime: string;
}

export interface QboInvoiceLine {
  Id?: string;
  LineNum?: number;
  Description?: string;
  Amount: number;
  DetailType: 'SalesItemLineDetail' | 'SubTotalLineDetail';
  SalesItemLineDetail?: { ItemRef: QboRef; Qty: number; UnitPrice: number; TaxCodeRef: QboRef };
  SubTotalLineDetail?: Record<string, never>;
}

export interface QboInvoice {
  Id: string;
  SyncToken: string;
  domain: 'QBO';
  sparse: false;
  MetaData: QboMetaData;
  DocNumber: string;
  TxnDate: string;
  DueDate: string;
  CurrencyRef: QboRef;
  CustomerRef: QboRef;
  Line: QboInvoiceLine[];
  TxnTaxDetail: { TotalTax: number };
  TotalAmt: number;
  Balance: number;
  EmailStatus: 'NotSet' | 'NeedToSend' | 'EmailSent';
  PrivateNote: string;
}

/** A simple line (`Description`, `Qty`, `UnitPrice` or `Amount`) or a full QuickBooks line. */
export interface QboLineInput {
  Description?: string;
  Amount?: number;
  Qty?: number;
  UnitPrice?: number;
  ItemRef?: QboRef;
  DetailType?: string;
  SalesItemLineDetail?: { ItemRef?: QboRef; Qty?: number; UnitPrice?: number };
}

export interface QboInvoiceInput {
  Id?: string;
  DocNumber?: string;
  TxnDate?: string;
  DueDate?: string;
  CustomerRef?: Partial<QboRef>;
  Line?: QboLineInput[];
  /** Without `Line`, becomes a single line of this amount. */
  TotalAmt?: number;
  Balance?: number;
  CurrencyRef?: QboRef;
  EmailStatus?: QboInvoice['EmailStatus'];
  PrivateNote?: string;
}

export interface QboCustomer {
  Id: string;
  SyncToken: string;
  domain: 'QBO';
  sparse: false;
  MetaData: QboMetaData;
  DisplayName: string;
  GivenName: string;
  FamilyName: string;
  CompanyName: string;
  PrimaryEmailAddr?: { Address: string };
  Balance: number;
  Active: boolean;
  CurrencyRef: QboRef;
}

export type QboCustomerInput = Partial<Omit<QboCustomer, 'SyncToken' | 'domain' | 'sparse' | 'MetaData'>>;

export interface QuickBooksStats {
  apiCalls: number;
  apiCallsServed: number;
  callsByEndpoint: Record<string, number>;
  batchItems: number;
  rateLimited: Record<QuickBooksRateLimitProblem, number>;
  unauthorized: number;
  forbidden: number;
  faultsInjected: number;
  tokenGrants: number;
  tokenRefreshes: number;
  tokenGrantsByType: Record<string, number>;
  tokenErrors: number;
  revocations: number;
  consentsShown: number;
  consentsAllowed: number;
  consentsDenied: number;
  maxConcurrencyByRealm: Record<string, number>;
}

export interface QuickBooksEmulator {
  readonly url: string;
  readonly port: number;
  /** Closes the listener and every open socket. */
  stop(): Promise<void>;
  registerClient(client: QuickBooksClient): void;
  /** Issues a one-time code for a realm, as Intuit's consent screen would. */
  issueAuthorizationCode(input: { clientId: string; realmId: string; scope?: string; redirectUri?: string }): string;
  expireAllTokens(): void;
  revokeRefreshTokens(): void;
  /** The next `n` calls to the target surface answer `status` instead of being served. */
  failNext(n: number, status: number, options?: QuickBooksFaultOptions): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  /** Delays the token endpoint's answers (to race refreshers). */
  setTokenLatency(ms: number): void;
  /** Whether a refresh token is still live (not revoked, not expired). */
  hasRefreshToken(token: string): boolean;
  setLimits(limits: Partial<QuickBooksLimits>): void;
  /** Moves the emulator's clock forward, rolling rate windows and expiring tokens without waiting. */
  advanceTime(ms: number): void;
  now(): number;
  addRealm(realmId: string, companyName?: string): void;
  upsertInvoice(realmId: string, input: QboInvoiceInput): QboInvoice;
  getInvoice(realmId: string, id: string): QboInvoice | undefined;
  /** Deletes an invoice; CDC then reports it with `status: "Deleted"`. */
  deleteInvoice(realmId: string, id: string): boolean;
  /**
   * Merges customer `fromId` into `intoId`, as QuickBooks' merge does: the merged-away customer
   * is gone (CDC reports it Deleted) and the survivor gets a new version.
   */
  mergeCustomers(realmId: string, fromId: string, intoId: string): QboCustomer;
  upsertCustomer(realmId: string, input: QboCustomerInput): QboCustomer;
  getCustomer(realmId: string, id: string): QboCustomer | undefined;
  stats(): QuickBooksStats;
  resetStats(): void;
  resetRateLimits(): void;
}

const DEFAULT_LIMITS: QuickBooksLimits = {
  perMinute: 500,
  perSecond: 10,
  concurrent: 10,
  batchPerMinute: 40,
  maxBatchItems: 30,
};
const AUTH_CODE_TTL_MS = 10 * 60_000;
const DEFAULT_SCOPE = 'com.intuit.quickbooks.accounting';
const ENTITIES = ['Invoice', 'Customer'] as const;
export type QuickBooksEntityName = (typeof ENTITIES)[number];
type EntityName = QuickBooksEntityName;

interface Stored<T> {
  value: T;
  updatedMs: number;
}

interface Tombstone {
  id: string;
  deletedMs: number;
}

interface RealmData {
  realmId: string;
  companyName: string;
  invoices: Map<string, Stored<QboInvoice>>;
  customers: Map<string, Stored<QboCustomer>>;
  deletedInvoices: Map<string, Tombstone>;
  deletedCustomers: Map<string, Tombstone>;
  lastStampMs: number;
  nextId: Record<EntityName, number>;
}

interface AccessGrant {
  clientId: string;
  realmId: string;
  expiresAtMs: number;
}

interface RefreshGrant {
  clientId: string;
  realmId: string;
  scope: string;
  expiresAtMs: number;
  supersededAtMs: number | undefined;
}

interface AuthCode {
  clientId: string;
  realmId: string;
  scope: string;
  redirectUri: string | undefined;
  expiresAtMs: number;
  pkce: PkceChallenge | undefined;
}

interface Fault {
  remaining: number;
  status: number;
  options: QuickBooksFaultOptions;
}

interface RealmLimits {
  minute: SlidingWindowCounter;
  second: SlidingWindowCounter;
  batch: SlidingWindowCounter;
  gate: ConcurrencyGate;
}

interface QboError {
  Message: string;
  Detail: string;
  code: string;
  element?: string;
}

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

/** Thrown while handling a request to answer with a QuickBooks Fault. */
class QboFaultError extends Error {
  constructor(
    readonly status: number,
    readonly faultType: string,
    readonly error: QboError,
  ) {
    super(error.Detail || error.Message);
    this.name = 'QboFaultError';
  }
}

/** Starts a QuickBooks Online emulator on an ephemeral port (unless `port` is given). */
export async function startQuickBooksEmulator(options: QuickBooksEmulatorOptions = {}): Promise<QuickBooksEmulator> {
  const baseClock = options.now ?? Date.now;
  let clockOffsetMs = 0;
  const now = (): number => baseClock() + clockOffsetMs;

  const limits: QuickBooksLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const secondMs = options.windowMs?.second ?? 1000;
  const minuteMs = options.windowMs?.minute ?? 60_000;
  const accessTtlMs = (options.accessTokenTtlSeconds ?? 3600) * 1000;
  const refreshTtlMs = (options.refreshTokenTtlSeconds ?? 100 * 86_400) * 1000;
  const graceMs = (options.refreshTokenReuseGraceSeconds ?? 0) * 1000;
  const retryAfter = options.retryAfterSeconds === undefined ? 60 : options.retryAfterSeconds;
  const offsetMinutes = options.utcOffsetMinutes ?? -420;
  const cdcMaxDays = options.cdcMaxDays ?? 30;
  const cdcMaxObjects = options.cdcMaxObjects ?? 1000;
  let latencyMs = options.latencyMs ?? 0;
  let tokenLatencyMs = options.tokenLatencyMs ?? 0;

  const clients = new Map<string, QuickBooksClient>();
  const accessTokens = new Map<string, AccessGrant>();
  const refreshTokens = new Map<string, RefreshGrant>();
  const authCodes = new Map<string, AuthCode>();
  const realms = new Map<string, RealmData>();
  const faults: Fault[] = [];
  const realmLimits = new KeyedState<RealmLimits>(() => ({
    minute: new SlidingWindowCounter(limits.perMinute, minuteMs),
    second: new SlidingWindowCounter(limits.perSecond, secondMs),
    batch: new SlidingWindowCounter(limits.batchPerMinute, minuteMs),
    gate: new ConcurrencyGate(limits.concurrent),
  }));
  let stats = emptyStats();

  for (const client of options.clients ?? []) clients.set(client.clientId, { ...client });
  for (const realm of options.realms ?? []) addRealm(realm.realmId, realm.companyName);

  const stampTime = (ms: number): string => localTime(ms, offsetMinutes, false);
  const responseTime = (): string => localTime(now(), offsetMinutes, true);

  // ---- data ---------------------------------------------------------------------------

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

  function pickId(data: RealmData, entity: EntityName, given: string | undefined): string {
    if (given === undefined) {
      const id = String(data.nextId[entity]);
      data.nextId[entity] += 1;
      return id;
    }
    if (!/^\d+$/.test(given)) throw new Error(`QuickBooks emulator: ${entity} Id must be numeric, got ${given}`);
    data.nextId[entity] = Math.max(data.nextId[entity], Number(given) + 1);
    return given;
  }

  function meta(previous: QboMetaData | undefined, updatedMs: number): QboMetaData {
    return { CreateTime: previous?.CreateTime ?? stampTime(updatedMs), LastUpdatedTime: stampTime(updatedMs) };
  }

  function nextSyncToken(previous: { SyncToken: string } | undefined): string {
    return previous ? String(Number(previous.SyncToken) + 1) : '0';
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

  function entityMap(data: RealmData, entity: EntityName): Map<string, Stored<QboInvoice | QboCustomer>> {
    return entity === 'Invoice' ? data.invoices : data.customers;
  }

  // ---- OAuth --------------------------------------------------------------------------

  function token(prefix: string): string {
    return `${prefix}${randomBytes(32).toString('base64url')}`;
  }

  function issueTokens(clientId: string, realmId: string, scope: string): object {
    const at = now();
    const accessToken = token('eyJ');
    const refreshToken = token('AB11');
    accessTokens.set(accessToken, { clientId, realmId, expiresAtMs: at + accessTtlMs });
    refreshTokens.set(refreshToken, {
      clientId,
      realmId,
      scope,
      expiresAtMs: at + refreshTtlMs,
      supersededAtMs: undefined,
    });
    return {
      token_type: 'bearer',
      access_token: accessToken,
      expires_in: Math.round(accessTtlMs / 1000),
      refresh_token: refreshToken,
      x_refresh_token_expires_in: Math.round(refreshTtlMs / 1000),
    };
  }

  function basicClient(req: Request): QuickBooksClient | undefined {
    const header = req.get('authorization');
    if (!header?.toLowerCase().startsWith('basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const client = colon > 0 ? clients.get(decoded.slice(0, colon)) : undefined;
    return client && safeEqual(decoded.slice(colon + 1), client.clientSecret) ? client : undefined;
  }

  async function tokenEndpoint(req: Request, res: Response): Promise<void> {
    if (tokenLatencyMs > 0) await delay(tokenLatencyMs, res);
    if (res.destroyed) return;
    res.set({ 'Cache-Control': 'no-store', intuit_tid: tid() });
    if (takeFault('token', res)) return;
    const fail = (status: number, error: string): void => {
      stats.tokenErrors += 1;
      res.status(status).json({ error });
    };
    const client = basicClient(req);
    if (!client) return fail(401, 'invalid_client');
    const body = formBody(req);
    const grantType = body['grant_type'] ?? '';
    const granted = (payload: object): void => {
      stats.tokenGrants += 1;
      stats.tokenGrantsByType[grantType] = (stats.tokenGrantsByType[grantType] ?? 0) + 1;
      res.json(payload);
    };
    const at = now();

    if (grantType === 'authorization_code') {
      const code = body['code'];
      if (code === undefined || body['redirect_uri'] === undefined) return fail(400, 'invalid_request');
      const entry = authCodes.get(code);
      authCodes.delete(code);
      if (!entry || entry.clientId !== client.clientId || entry.expiresAtMs < at) return fail(400, 'invalid_grant');
      if (entry.redirectUri !== undefined && entry.redirectUri !== body['redirect_uri'])
        return fail(400, 'invalid_grant');
      // PKCE: a code issued with a challenge is only redeemed with the matching verifier.
      if (!pkceMatches(entry.pkce, body['code_verifier'])) return fail(400, 'invalid_grant');
      return granted(issueTokens(client.clientId, entry.realmId, entry.scope));
    }
    if (grantType === 'refresh_token') {
      const presented = body['refresh_token'];
      if (presented === undefined) return fail(400, 'invalid_request');
      const entry = refreshTokens.get(presented);
      if (!entry || entry.clientId !== client.clientId || entry.expiresAtMs < at) return fail(400, 'invalid_grant');
      if (entry.supersededAtMs !== undefined && entry.supersededAtMs + graceMs <= at) return fail(400, 'invalid_grant');
      entry.supersededAtMs ??= at;
      stats.tokenRefreshes += 1;
      return granted(issueTokens(client.clientId, entry.realmId, entry.scope));
    }
    fail(400, 'unsupported_grant_type');
  }

  /** Intuit's consent page: the user picks the company (realm) and presses "Allow access". */
  function authorizeEndpoint(req: Request, res: Response): void {
    const q = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
    const client = q['client_id'] === undefined ? undefined : clients.get(q['client_id']);
    const redirectUri = q['redirect_uri'];
    if (!client || !redirectUri || !/^https?:\/\//.test(redirectUri)) {
      res.status(400).type('text/html').send('<h1>Error</h1><p>invalid client_id or redirect_uri</p>');
      return;
    }
    const pkce = readChallenge(q);
    if (q['response_type'] !== 'code' || pkce === 'invalid' || !q['scope'] || !q['state']) {
      res.redirect(302, redirectBack(redirectUri, { error: 'invalid_request', state: q['state'] }));
      return;
    }
    stats.consentsShown += 1;
    res
      .type('text/html')
      .set('Cache-Control', 'no-store')
      .send(
        consentPage({
          provider: 'Intuit QuickBooks',
          appName: client.name ?? client.clientId,
          scope: q['scope'],
          action: '/connect/oauth2',
          hidden: Object.fromEntries(
            ['client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method']
              .filter((k) => q[k] !== undefined)
              .map((k) => [k, q[k]!]),
          ),
          choiceName: 'realmId',
          choiceLabel: 'Select a company',
          choices: [...realms.values()].map((r) => ({ value: r.realmId, label: r.companyName })),
          multiple: false,
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
    const realmId = body['realmId'];
    if (body['decision'] !== 'allow' || realmId === undefined || !realms.has(realmId)) {
      stats.consentsDenied += 1;
      res.redirect(302, redirectBack(redirectUri, { error: 'access_denied', state: body['state'] }));
      return;
    }
    const pkce = readChallenge(body);
    stats.consentsAllowed += 1;
    const code = token('AB11');
    authCodes.set(code, {
      clientId: client.clientId,
      realmId,
      scope: body['scope'] ?? DEFAULT_SCOPE,
      redirectUri,
      expiresAtMs: now() + AUTH_CODE_TTL_MS,
      pkce: pkce === 'invalid' ? undefined : pkce,
    });
    res.redirect(302, redirectBack(redirectUri, { code, state: body['state'], realmId }));
  }

  /** `POST /v2/oauth2/tokens/revoke` with `{"token": ...}`: ends the app's access to that realm. */
  function revokeEndpoint(req: Request, res: Response): void {
    const client = basicClient(req);
    if (!client) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    const presented = isRecord(req.body) && typeof req.body['token'] === 'string' ? req.body['token'] : undefined;
    if (presented === undefined) {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
    const grant = refreshTokens.get(presented) ?? accessTokens.get(presented);
    if (!grant || grant.clientId !== client.clientId) {
      res.status(400).json({ error: 'invalid_token' });
      return;
    }
    stats.revocations += 1;
    for (const [t, g] of refreshTokens)
      if (g.clientId === client.clientId && g.realmId === grant.realmId) refreshTokens.delete(t);
    for (const [t, g] of accessTokens)
      if (g.clientId === client.clientId && g.realmId === grant.realmId) accessTokens.delete(t);
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
    const retry = fo.retryAfter ?? (status === 429 && typeof retryAfter === 'number' ? retryAfter : undefined);
    if (retry !== undefined) res.set('Retry-After', String(retry));
    if (fo.headers) res.set(fo.headers);
    res.status(status);
    if (fo.body === undefined) res.json(status === 429 ? throttleBody() : systemFaultBody(status));
    else if (typeof fo.body === 'string') res.type('text/plain').send(fo.body);
    else res.json(fo.body);
    return true;
  }

  function throttleBody(): object {
    return fault('SERVICE', {
      Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
      Detail: 'ThrottleExceeded',
      code: '3001',
    });
  }

  function systemFaultBody(status: number): object {
    return fault('SystemFault', {
      Message: 'An application error has occurred while processing your request',
      Detail: `System Failure Error: emulated failure (HTTP ${status})`,
      code: '10000',
    });
  }

  function fault(type: string, ...errors: QboError[]): object {
    return { Fault: { Error: errors, type }, time: responseTime() };
  }

  function authFailure(detail: string): object {
    return {
      fault: {
        error: [{ message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401', detail, code: '3200' }],
        type: 'AUTHENTICATION',
      },
      time: responseTime(),
    };
  }

  function bearer(req: Request): { grant: AccessGrant } | { detail: string } {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match?.[1] === undefined) return { detail: 'Authorization header missing or not a bearer token' };
    const grant = accessTokens.get(match[1]);
    if (!grant) return { detail: 'Token revoked or invalid' };
    if (grant.expiresAtMs <= now()) return { detail: `Token expired: ${match[1].slice(0, 12)}...` };
    return { grant };
  }

  type ApiHandler = (req: Request, res: Response, data: RealmData) => void;

  function apiRoute(endpoint: string, handler: ApiHandler, isBatch = false): RequestHandler {
    return async (req, res) => {
      res.set('intuit_tid', tid());
      stats.apiCalls += 1;
      stats.callsByEndpoint[endpoint] = (stats.callsByEndpoint[endpoint] ?? 0) + 1;
      if (takeFault('api', res)) return;
      const auth = bearer(req);
      if ('detail' in auth) {
        stats.unauthorized += 1;
        res.set('WWW-Authenticate', 'Bearer realm="Intuit", error="invalid_token"');
        res.status(401).json(authFailure(auth.detail));
        return;
      }
      const realmId = String(req.params['realmId'] ?? '');
      const data = realms.get(realmId);
      if (!data || auth.grant.realmId !== realmId) {
        stats.forbidden += 1;
        res.status(403).json(
          fault('SECURITY', {
            Message: 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
            Detail: '',
            code: '3100',
          }),
        );
        return;
      }
      const rl = realmLimits.get(realmId);
      const rules: WindowRule<QuickBooksRateLimitProblem>[] = [{ problem: 'minute', counter: rl.minute }];
      if (isBatch) rules.push({ problem: 'batch', counter: rl.batch });
      rules.push({ problem: 'second', counter: rl.second });
      const admission = admit(rules, { problem: 'concurrent', gate: rl.gate }, now());
      if (!admission.ok) {
        stats.rateLimited[admission.problem] += 1;
        const seconds = retryAfter === 'window' ? admission.retryAfterSeconds : retryAfter;
        if (seconds !== null) res.set('Retry-After', String(seconds));
        res.status(429).json(throttleBody());
        return;
      }
      // 'close' fires on completion and on client abort alike, so the slot always returns.
      res.once('close', admission.release);
      try {
        stats.apiCallsServed += 1;
        if (latencyMs > 0) await delay(latencyMs, res);
        if (res.destroyed) return;
        handler(req, res, data);
      } catch (error) {
        if (!(error instanceof QboFaultError)) throw error;
        res.status(error.status).json(fault(error.faultType, error.error));
      } finally {
        if (res.writableEnded || res.destroyed) admission.release();
      }
    };
  }

  function readEntity(entity: EntityName): ApiHandler {
    return (req, res, data) => {
      const stored = entityMap(data, entity).get(String(req.params['id'] ?? ''));
      if (!stored) throw objectNotFound();
      res.json({ [entity]: structuredClone(stored.value), time: responseTime() });
    };
  }

  function runQuery(data: RealmData, text: string): object {
    const parsed = parseQuery(text);
    const matches = [...entityMap(data, parsed.entity).values()]
      .map((s) => s.value)
      .filter((row) => parsed.where.every((cond) => matchesCondition(row, cond)));
    sortRows(matches, parsed.orderBy);
    if (parsed.count) return { totalCount: matches.length };
    const page = matches.slice(parsed.startPosition - 1, parsed.startPosition - 1 + parsed.maxResults);
    if (page.length === 0) return {};
    return {
      [parsed.entity]: page.map((row) => project(row, parsed.fields)),
      startPosition: parsed.startPosition,
      maxResults: page.length,
    };
  }

  const queryHandler: ApiHandler = (req, res, data) => {
    const text = typeof req.body === 'string' && req.body.trim() !== '' ? req.body : queryParam(req, 'query');
    if (text === undefined) throw validationFault('Error parsing query', 'QueryParserError: query is missing', '4000');
    res.json({ QueryResponse: runQuery(data, text), time: responseTime() });
  };

  const batchHandler: ApiHandler = (req, res, data) => {
    const body: unknown = req.body;
    const items = isRecord(body) ? body['BatchItemRequest'] : undefined;
    if (!Array.isArray(items) || items.length === 0) {
      throw validationFault(
        'Request has invalid or unsupported property',
        'BatchItemRequest must be a non-empty array',
      );
    }
    if (items.length > limits.maxBatchItems) {
      throw validationFault(
        'Batch size limit exceeded',
        `Number of batch items (${items.length}) exceeds the maximum allowed (${limits.maxBatchItems})`,
        '4001',
      );
    }
    stats.batchItems += items.length;
    const responses = items.map((item: unknown, index) => {
      const bId = isRecord(item) && typeof item['bId'] === 'string' ? item['bId'] : String(index + 1);
      try {
        return { bId, ...runBatchItem(data, item) };
      } catch (error) {
        if (!(error instanceof QboFaultError)) throw error;
        return { bId, Fault: { Error: [error.error], type: error.faultType } };
      }
    });
    res.json({ BatchItemResponse: responses, time: responseTime() });
  };

  function runBatchItem(data: RealmData, item: unknown): object {
    const parsed = batchItemSchema.safeParse(item);
    if (!parsed.success) {
      throw validationFault('Request has invalid or unsupported property', parsed.error.issues[0]?.message ?? '');
    }
    const request = parsed.data;
    if (request.Query !== undefined) return { QueryResponse: runQuery(data, request.Query) };
    const entity: EntityName | undefined = request.Invoice ? 'Invoice' : request.Customer ? 'Customer' : undefined;
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
    deleteInvoice(data.realmId, id);
    return { [entity]: { domain: 'QBO', status: 'Deleted', Id: id } };
  }

  function writeEntity(data: RealmData, entity: EntityName, fields: BatchEntityFields, id: string | undefined): object {
    // zod types absent optionals as `undefined`, which exactOptionalPropertyTypes keeps
    // apart from "absent"; after dropping them the payload is a valid seeding input.
    const input = { ...definedOnly(fields), ...(id !== undefined ? { Id: id } : {}) };
    return entity === 'Invoice'
      ? upsertInvoice(data.realmId, input as QboInvoiceInput)
      : upsertCustomer(data.realmId, input as QboCustomerInput);
  }

  const cdcHandler: ApiHandler = (req, res, data) => {
    const entitiesParam = queryParam(req, 'entities');
    const changedSinceParam = queryParam(req, 'changedSince');
    if (!entitiesParam || !changedSinceParam) {
      throw validationFault('Invalid Request', 'Both entities and changedSince are required');
    }
    const changedSince = Date.parse(changedSinceParam);
    if (Number.isNaN(changedSince)) {
      throw validationFault('Invalid Request', `changedSince is not a valid date-time: ${changedSinceParam}`);
    }
    if (now() - changedSince > cdcMaxDays * 86_400_000) {
      throw validationFault('Invalid Request', `changedSince must be within the last ${cdcMaxDays} days`);
    }
    const requested: EntityName[] = [];
    for (const raw of entitiesParam.split(',')) {
      const name = ENTITIES.find((e) => e.toLowerCase() === raw.trim().toLowerCase());
      if (!name) throw validationFault('Invalid Request', `Entity ${raw.trim()} is not supported by CDC`);
      if (!requested.includes(name)) requested.push(name);
    }
    const changes: { entity: EntityName; ms: number; row: object }[] = [];
    for (const entity of requested) {
      for (const stored of entityMap(data, entity).values()) {
        if (stored.updatedMs >= changedSince)
          changes.push({ entity, ms: stored.updatedMs, row: structuredClone(stored.value) });
      }
      {
        for (const tomb of (entity === 'Invoice' ? data.deletedInvoices : data.deletedCustomers).values()) {
          if (tomb.deletedMs < changedSince) continue;
          const row = {
            domain: 'QBO',
            status: 'Deleted',
            Id: tomb.id,
            MetaData: { LastUpdatedTime: stampTime(tomb.deletedMs) },
          };
          changes.push({ entity, ms: tomb.deletedMs, row });
        }
      }
    }
    // QuickBooks caps a CDC answer; the oldest changes come first so a caller can resume.
    const kept = changes.sort((a, b) => a.ms - b.ms).slice(0, cdcMaxObjects);
    const queryResponses = requested.map((entity) => {
      const rows = kept.filter((c) => c.entity === entity).map((c) => c.row);
      return rows.length === 0
        ? {}
        : { [entity]: rows, startPosition: 1, maxResults: rows.length, totalCount: rows.length };
    });
    res.json({ CDCResponse: [{ QueryResponse: queryResponses }], time: responseTime() });
  };

  // ---- HTTP ---------------------------------------------------------------------------

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/oauth2/v1/tokens/bearer', express.urlencoded({ extended: false, limit: '16kb' }), tokenEndpoint);
  app.get('/connect/oauth2', authorizeEndpoint);
  app.post('/connect/oauth2', express.urlencoded({ extended: false, limit: '16kb' }), consentAnswer);
  app.post('/v2/oauth2/tokens/revoke', express.json({ limit: '16kb' }), revokeEndpoint);
  const company = '/v3/company/:realmId';
  const textBody = express.text({ type: ['application/text', 'text/plain'], limit: '100kb' });
  app.get(`${company}/invoice/:id`, apiRoute('GET /invoice/{id}', readEntity('Invoice')));
  app.get(`${company}/customer/:id`, apiRoute('GET /customer/{id}', readEntity('Customer')));
  app.get(`${company}/query`, apiRoute('GET /query', queryHandler));
  app.post(`${company}/query`, textBody, apiRoute('POST /query', queryHandler));
  app.post(`${company}/batch`, express.json({ limit: '2mb' }), apiRoute('POST /batch', batchHandler, true));
  app.get(`${company}/cdc`, apiRoute('GET /cdc', cdcHandler));
  app.use((_req, res) => {
    res
      .status(404)
      .json(fault('ValidationFault', { Message: 'Unsupported Operation', Detail: 'Not found', code: '500' }));
  });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = isRecord(err) && typeof err['status'] === 'number' ? err['status'] : 500;
    if (status >= 400 && status < 500) {
      res.status(status).json(
        fault('ValidationFault', {
          Message: 'Request has invalid or unsupported property',
          Detail: String((err as Error).message),
          code: '2010',
        }),
      );
      return;
    }
    res.status(500).json(systemFaultBody(500));
  });

  const server = await listen(app, options.port ?? 0, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url,
    port: address.port,
    stop: () => close(server),
    registerClient: (client) => void clients.set(client.clientId, { ...client }),
    issueAuthorizationCode: (input) => {
      if (!clients.has(input.clientId)) throw new Error(`QuickBooks emulator: unknown client ${input.clientId}`);
      requireRealm(input.realmId);
      const code = token('AB11');
      authCodes.set(code, {
        clientId: input.clientId,
        realmId: input.realmId,
        scope: input.scope ?? DEFAULT_SCOPE,
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
      for (const [, rl] of realmLimits.values()) {
        rl.minute.limit = limits.perMinute;
        rl.second.limit = limits.perSecond;
        rl.batch.limit = limits.batchPerMinute;
        rl.gate.limit = limits.concurrent;
      }
    },
    advanceTime: (ms) => {
      clockOffsetMs += ms;
    },
    now,
    addRealm,
    upsertInvoice,
    getInvoice: (realmId, id) => {
      const stored = requireRealm(realmId).invoices.get(id);
      return stored ? structuredClone(stored.value) : undefined;
    },
    deleteInvoice,
    mergeCustomers,
    upsertCustomer,
    getCustomer: (realmId, id) => {
      const stored = requireRealm(realmId).customers.get(id);
      return stored ? structuredClone(stored.value) : undefined;
    },
    stats: () => {
      const snapshot = structuredClone(stats);
      for (const [realmId, rl] of realmLimits.values()) snapshot.maxConcurrencyByRealm[realmId] = rl.gate.maxObserved;
      return snapshot;
    },
    resetStats: () => {
      stats = emptyStats();
      for (const [, rl] of realmLimits.values()) rl.gate.resetPeak();
    },
    resetRateLimits: () => {
      for (const [, rl] of realmLimits.values()) {
        rl.minute.reset();
        rl.second.reset();
        rl.batch.reset();
      }
    },
  };
}

// ---- query language -----------------------------------------------------------------

type Literal = string | number | boolean;

export interface QueryCondition {
  field: string;
  op: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'LIKE' | 'IN';
  values: Literal[];
}

/** A parsed `select … from …` statement of the QuickBooks query language (the subset the emulator runs). */
export interface ParsedQuery {
  entity: EntityName;
  count: boolean;
  fields: string[] | '*';
  where: QueryCondition[];
  orderBy: { field: string; desc: boolean }[];
  startPosition: number;
  maxResults: number;
}

interface Token {
  kind: 'word' | 'string' | 'number' | 'symbol';
  text: string;
  at: number;
}

const QUERYABLE: Record<EntityName, string[]> = {
  Invoice: [
    'Id',
    'SyncToken',
    'DocNumber',
    'TxnDate',
    'DueDate',
    'TotalAmt',
    'Balance',
    'CustomerRef',
    'EmailStatus',
    'MetaData.CreateTime',
    'MetaData.LastUpdatedTime',
  ],
  Customer: [
    'Id',
    'SyncToken',
    'DisplayName',
    'GivenName',
    'FamilyName',
    'CompanyName',
    'Balance',
    'Active',
    'MetaData.CreateTime',
    'MetaData.LastUpdatedTime',
  ],
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        const c = text[j];
        if (c === undefined) throw parseError(`unterminated string starting at column ${i + 1}`);
        if (c === '\\' && text[j + 1] === "'") {
          value += "'";
          j += 2;
        } else if (c === "'") {
          j += 1;
          break;
        } else {
          value += c;
          j += 1;
        }
      }
      tokens.push({ kind: 'string', text: value, at: i });
      i = j;
    } else if (/[0-9]/.test(ch)) {
      const match = /^\d+(\.\d+)?/.exec(text.slice(i));
      tokens.push({ kind: 'number', text: match?.[0] ?? ch, at: i });
      i += match?.[0].length ?? 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
      tokens.push({ kind: 'word', text: match?.[0] ?? ch, at: i });
      i += match?.[0].length ?? 1;
    } else {
      const two = text.slice(i, i + 2);
      const symbol = ['<=', '>=', '!='].includes(two) ? two : ch;
      if (!['*', ',', '(', ')', '=', '<', '>', '<=', '>=', '!='].includes(symbol)) {
        throw parseError(`Encountered " "${ch}" " at line 1, column ${i + 1}.`);
      }
      tokens.push({ kind: 'symbol', text: symbol, at: i });
      i += symbol.length;
    }
  }
  return tokens;
}

/** Parses a QuickBooks query; throws a QuickBooks ValidationFault (as an error) when it is malformed. */
export function parseQuery(text: string): ParsedQuery {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (word: string): boolean => peek()?.kind === 'word' && peek()?.text.toUpperCase() === word;
  const unexpected = (expected: string): QboFaultError => {
    const t = peek();
    return parseError(
      t
        ? `Encountered " "${t.text}" " at line 1, column ${t.at + 1}. Was expecting: ${expected}`
        : `Unexpected end of query. Was expecting: ${expected}`,
    );
  };
  const expectWord = (word: string): void => {
    if (!isWord(word)) throw unexpected(word);
    pos += 1;
  };
  const expectSymbol = (symbol: string): void => {
    if (peek()?.text !== symbol || peek()?.kind !== 'symbol') throw unexpected(`"${symbol}"`);
    pos += 1;
  };
  const identifier = (): string => {
    const t = peek();
    if (t?.kind !== 'word') throw unexpected('<IDENTIFIER>');
    pos += 1;
    return t.text;
  };
  const literal = (): Literal => {
    const t = peek();
    pos += 1;
    if (t?.kind === 'string') return t.text;
    if (t?.kind === 'number') return Number(t.text);
    if (t?.kind === 'word' && /^(true|false)$/i.test(t.text)) return t.text.toLowerCase() === 'true';
    pos -= 1;
    throw unexpected('<STRING>');
  };
  const integer = (): number => {
    const t = peek();
    if (t?.kind !== 'number' || !/^\d+$/.test(t.text)) throw unexpected('<INTEGER>');
    pos += 1;
    return Number(t.text);
  };

  expectWord('SELECT');
  let count = false;
  let fields: string[] | '*';
  if (peek()?.text === '*') {
    pos += 1;
    fields = '*';
  } else if (isWord('COUNT')) {
    pos += 1;
    expectSymbol('(');
    expectSymbol('*');
    expectSymbol(')');
    count = true;
    fields = '*';
  } else {
    const list = [identifier()];
    while (peek()?.text === ',') {
      pos += 1;
      list.push(identifier());
    }
    fields = list;
  }
  expectWord('FROM');
  const entityWord = identifier();
  const entity = ENTITIES.find((e) => e.toLowerCase() === entityWord.toLowerCase());
  if (!entity) throw validationError(`Entity ${entityWord} is not supported`);
  const resolveField = (name: string): string => {
    const found = QUERYABLE[entity].find((f) => f.toLowerCase() === name.toLowerCase());
    if (!found) throw validationError(`property '${name}' is not queryable`);
    return found;
  };
  if (fields !== '*') fields = fields.map(resolveField);

  const where: QueryCondition[] = [];
  if (isWord('WHERE')) {
    pos += 1;
    do {
      if (where.length > 0) pos += 1;
      const field = resolveField(identifier());
      const t = peek();
      if (isWord('IN')) {
        pos += 1;
        expectSymbol('(');
        const values = [literal()];
        while (peek()?.text === ',') {
          pos += 1;
          values.push(literal());
        }
        expectSymbol(')');
        where.push({ field, op: 'IN', values });
      } else if (isWord('LIKE')) {
        pos += 1;
        where.push({ field, op: 'LIKE', values: [literal()] });
      } else if (t?.kind === 'symbol' && ['=', '!=', '<', '>', '<=', '>='].includes(t.text)) {
        pos += 1;
        where.push({ field, op: t.text as QueryCondition['op'], values: [literal()] });
      } else {
        throw unexpected('"=", "<", ">", "IN", "LIKE"');
      }
    } while (isWord('AND'));
  }

  const orderBy: ParsedQuery['orderBy'] = [];
  if (isWord('ORDERBY') || isWord('ORDER')) {
    if (isWord('ORDER')) {
      pos += 1;
      expectWord('BY');
    } else pos += 1;
    do {
      if (orderBy.length > 0) pos += 1;
      const field = resolveField(identifier());
      let desc = false;
      if (isWord('DESC') || isWord('ASC')) {
        desc = isWord('DESC');
        pos += 1;
      }
      orderBy.push({ field, desc });
    } while (peek()?.text === ',');
  }
  let startPosition = 1;
  let maxResults = 100;
  if (isWord('STARTPOSITION')) {
    pos += 1;
    startPosition = Math.max(1, integer());
  }
  if (isWord('MAXRESULTS')) {
    pos += 1;
    maxResults = Math.min(1000, Math.max(1, integer()));
  }
  if (pos < tokens.length) throw unexpected('<EOF>');
  return { entity, count, fields, where, orderBy, startPosition, maxResults };
}

function fieldValue(row: object, field: string): unknown {
  let value: unknown = row;
  for (const part of field.split('.')) value = isRecord(value) ? value[part] : undefined;
  // References compare by their id, as in `CustomerRef = '58'`.
  return isRecord(value) && 'value' in value ? value['value'] : value;
}

const NUMERIC_FIELDS = new Set(['Id', 'SyncToken', 'TotalAmt', 'Balance']);

// Query literals are mostly quoted strings, so each side is coerced by the field's type.
function comparable(field: string, value: unknown): number | string | boolean | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
  if (/Time$|Date$/.test(field)) {
    const ms = Date.parse(String(value));
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (NUMERIC_FIELDS.has(field)) return Number(value);
  if (field === 'Active') return value === true || value === 'true';
  return String(value);
}

function matchesCondition(row: object, cond: QueryCondition): boolean {
  const actual = comparable(cond.field, fieldValue(row, cond.field));
  if (actual === undefined) return false;
  const values = cond.values.map((v) => comparable(cond.field, v));
  const first = values[0];
  switch (cond.op) {
    case 'IN':
      return values.some((v) => v === actual);
    case 'LIKE': {
      const pattern = String(cond.values[0] ?? '')
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*');
      return new RegExp(`^${pattern}$`, 'i').test(String(actual));
    }
    case '=':
      return actual === first;
    case '!=':
      return actual !== first;
    default:
      if (first === undefined) return false;
      if (cond.op === '<') return actual < first;
      if (cond.op === '>') return actual > first;
      if (cond.op === '<=') return actual <= first;
      return actual >= first;
  }
}

function sortRows(rows: object[], orderBy: ParsedQuery['orderBy']): void {
  const keys = orderBy.length > 0 ? orderBy : [{ field: 'Id', desc: false }];
  rows.sort((a, b) => {
    for (const { field, desc } of keys) {
      const x = comparable(field, fieldValue(a, field)) ?? '';
      const y = comparable(field, fieldValue(b, field)) ?? '';
      if (x < y) return desc ? 1 : -1;
      if (x > y) return desc ? -1 : 1;
    }
    return 0;
  });
}

function project(row: object, fields: string[] | '*'): object {
  if (fields === '*') return structuredClone(row);
  const source = row as Record<string, unknown>;
  const out: Record<string, unknown> = {
    Id: source['Id'],
    SyncToken: source['SyncToken'],
    domain: 'QBO',
    sparse: true,
  };
  for (const field of fields) {
    const top = field.split('.')[0] ?? field;
    out[top] = structuredClone(source[top]);
  }
  return out;
}

// ---- faults and helpers -------------------------------------------------------------

function parseError(detail: string): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Error parsing query',
    Detail: `QueryParserError: ${detail}`,
    code: '4000',
  });
}

function validationError(detail: string): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Invalid query',
    Detail: `QueryValidationError: ${detail}`,
    code: '4001',
  });
}

function validationFault(message: string, detail: string, code = '2010'): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', { Message: message, Detail: detail, code });
}

function objectNotFound(): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Object Not Found',
    Detail:
      "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
    code: '610',
    element: '',
  });
}

function staleObject(): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Stale Object Error',
    Detail: 'Stale Object Error : You and another user were working on this at the same time. Your work was not saved.',
    code: '5010',
    element: '',
  });
}

function emptyStats(): QuickBooksStats {
  return {
    apiCalls: 0,
    apiCallsServed: 0,
    callsByEndpoint: {},
    batchItems: 0,
    rateLimited: { minute: 0, second: 0, concurrent: 0, batch: 0 },
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
    maxConcurrencyByRealm: {},
  };
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

// QuickBooks writes local time with an explicit offset: `2026-01-01T10:00:00-07:00`.
function localTime(ms: number, offsetMinutes: number, withMillis: boolean): string {
  const shifted = new Date(ms + offsetMinutes * 60_000).toISOString();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${shifted.slice(0, withMillis ? 23 : 19)}${offset}`;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function tid(): string {
  return `1-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function queryParam(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  if (typeof value === 'string') return value;
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

function formBody(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (isRecord(req.body)) for (const [k, v] of Object.entries(req.body)) if (typeof v === 'string') out[k] = v;
  return out;
}
