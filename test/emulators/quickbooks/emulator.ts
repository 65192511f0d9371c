// A local stand-in for Intuit's OAuth server and the QuickBooks Online Accounting API
// (v3): entity reads, the SQL-like query language, /batch and change data capture, with
// QuickBooks' Fault envelopes and per-realm throttling. Timestamps keep QuickBooks'
// second precision and a local UTC offset, as real company files do.
import { apiRoute, type ApiPipeline } from '../api-pipeline';
import { emptyProviderStats, providerCore, startProviderEmulator } from '../provider-emulator';
import type { ProviderEmulator, ProviderEmulatorOptions, ProviderStats } from '../provider-emulator';
import { isRecord } from '../values';
import { mountAccountingRoutes } from './accounting-routes';
import { companyTime } from './company-time';
import {
  QboFaultError,
  authFailureBody,
  faultBody,
  forbiddenBody,
  intuitTid,
  systemFaultBody,
  throttleBody,
} from './errors';
import { answerQuickBooksFault, type QuickBooksFaultOptions } from './faults';
import {
  QUICKBOOKS_DEFAULT_SCOPE,
  mountQuickBooksIdentity,
  quickBooksBearer,
  quickBooksTokenPolicy,
  type QuickBooksClient,
  type QuickBooksConsent,
  type QuickBooksGrant,
} from './identity';
import { createQuickBooksLedger, readStored, type RealmData } from './ledger';
import {
  QUICKBOOKS_RATE_LIMIT_PROBLEMS,
  createQuickBooksRateLimits,
  type QuickBooksLimits,
  type QuickBooksRateLimitProblem,
} from './rate-limits';
import type { QboCustomer, QboCustomerInput, QboInvoice, QboInvoiceInput } from './resources';

export interface QuickBooksEmulatorOptions extends ProviderEmulatorOptions<QuickBooksClient, QuickBooksLimits> {
  windowMs?: { second?: number; minute?: number };
  /** How long a rotated-out refresh token keeps working; 0 (default) rejects it at once. */
  refreshTokenReuseGraceSeconds?: number;
  /** `Retry-After` on a 429: seconds, 'window' for the real time until a slot frees, null to omit. */
  retryAfterSeconds?: number | 'window' | null;
  realms?: { realmId: string; companyName?: string }[];
  /** Offset of the company's local time, used in every timestamp the API writes. */
  utcOffsetMinutes?: number;
  cdcMaxDays?: number;
  cdcMaxObjects?: number;
}

export interface QuickBooksStats extends ProviderStats<QuickBooksRateLimitProblem> {
  /** Items across all accepted batch requests. */
  batchItems: number;
  maxConcurrencyByRealm: Record<string, number>;
}

export interface QuickBooksEmulator extends ProviderEmulator<
  QuickBooksClient,
  QuickBooksFaultOptions,
  QuickBooksLimits,
  QuickBooksStats
> {
  /** Issues a one-time code for a realm, as Intuit's consent screen would. */
  issueAuthorizationCode(input: { clientId: string; realmId: string; scope?: string; redirectUri?: string }): string;
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
}

/** Starts a QuickBooks Online emulator on an ephemeral port (unless `port` is given). */
export async function startQuickBooksEmulator(options: QuickBooksEmulatorOptions = {}): Promise<QuickBooksEmulator> {
  const core = providerCore<QuickBooksClient, QuickBooksConsent, QuickBooksFaultOptions, Counters>(
    'QuickBooks',
    options,
    quickBooksTokenPolicy(options),
    emptyCounters,
  );
  const { now, tokens, latency, stats } = core;
  const time = companyTime(now, options.utcOffsetMinutes ?? -420);
  const retryAfter = options.retryAfterSeconds === undefined ? 60 : options.retryAfterSeconds;
  const ledger = createQuickBooksLedger(now, time);
  const limits = createQuickBooksRateLimits(options.limits, options.windowMs, now);
  for (const realm of options.realms ?? []) ledger.addRealm(realm.realmId, realm.companyName);

  const takeFault = core.faultTaker((res, fault) => answerQuickBooksFault(res, fault, retryAfter, time.response()));

  const pipeline = (isBatch: boolean): ApiPipeline<QuickBooksGrant, RealmData, QuickBooksRateLimitProblem> => ({
    stats,
    gateway: (_req, res) => {
      res.set('intuit_tid', intuitTid());
      return false;
    },
    takeFault: (res) => takeFault('api', res),
    authenticate: (req) => quickBooksBearer(tokens, req),
    refuseUnauthenticated: (res, detail) => {
      res.set('WWW-Authenticate', 'Bearer realm="Intuit", error="invalid_token"');
      res.status(401).json(authFailureBody(time.response(), detail));
    },
    scopeOf: (req, grant) => {
      const realmId = String(req.params['realmId'] ?? '');
      return grant.consent.realmId === realmId ? ledger.realms.get(realmId) : undefined;
    },
    refuseForbidden: (res) => res.status(403).json(forbiddenBody(time.response())),
    admit: (data) => limits.admit(data.realmId, isBatch),
    refuseLimited: (res, _data, _limited, windowSeconds) => {
      const seconds = retryAfter === 'window' ? windowSeconds : retryAfter;
      if (seconds !== null) res.set('Retry-After', String(seconds));
      res.status(429).json(throttleBody(time.response()));
    },
    latencyMs: () => latency.apiMs,
    answerError: (res, error) => {
      if (!(error instanceof QboFaultError)) return false;
      res.status(error.status).json(faultBody(time.response(), error.faultType, error.error));
      return true;
    },
  });
  const apiPipeline = pipeline(false);
  const batchPipeline = pipeline(true);

  const { app } = core;
  mountQuickBooksIdentity({ ...core, ledger, takeFault: (res) => takeFault('token', res) });
  mountAccountingRoutes(app, {
    ledger,
    time,
    now,
    maxBatchItems: limits.maxBatchItems,
    countBatchItems: (n) => {
      stats.batchItems += n;
    },
    cdcMaxDays: options.cdcMaxDays ?? 30,
    cdcMaxObjects: options.cdcMaxObjects ?? 1000,
    route: (endpoint, handler, isBatch = false) => apiRoute(isBatch ? batchPipeline : apiPipeline, endpoint, handler),
  });
  const controls = await startProviderEmulator<
    QuickBooksClient,
    QuickBooksFaultOptions,
    QuickBooksLimits,
    QuickBooksStats,
    Counters
  >({
    options,
    core,
    notFound: (_req, res) => {
      res.status(404).json(
        faultBody(time.response(), 'ValidationFault', {
          Message: 'Unsupported Operation',
          Detail: 'Not found',
          code: '500',
        }),
      );
    },
    // Body parsers fail with a 4xx status (malformed JSON, too large); QuickBooks calls those invalid.
    failed: (err, res) => {
      const status = isRecord(err) && typeof err['status'] === 'number' ? err['status'] : 500;
      if (status >= 400 && status < 500) {
        res.status(status).json(
          faultBody(time.response(), 'ValidationFault', {
            Message: 'Request has invalid or unsupported property',
            Detail: String((err as Error).message),
            code: '2010',
          }),
        );
        return;
      }
      res.status(500).json(systemFaultBody(time.response(), 500));
    },
    setLimits: (next) => limits.setLimits(next),
    concurrency: limits.realms,
    report: (counted, peaks) => ({ ...counted, maxConcurrencyByRealm: peaks }),
    resetRateLimits: () => limits.realms.resetWindows(),
  });

  return {
    ...controls,
    issueAuthorizationCode: (input) => {
      core.requireClient(input.clientId);
      ledger.requireRealm(input.realmId);
      const consent = { realmId: input.realmId, scope: input.scope ?? QUICKBOOKS_DEFAULT_SCOPE };
      return tokens.issueCode(input.clientId, consent, input.redirectUri);
    },
    addRealm: ledger.addRealm,
    upsertInvoice: ledger.upsertInvoice,
    getInvoice: (realmId, id) => readStored<QboInvoice>(ledger.requireRealm(realmId).invoices, id),
    deleteInvoice: ledger.deleteInvoice,
    mergeCustomers: ledger.mergeCustomers,
    upsertCustomer: ledger.upsertCustomer,
    getCustomer: (realmId, id) => readStored<QboCustomer>(ledger.requireRealm(realmId).customers, id),
  };
}

// What the emulator counts itself; peak concurrency is read from the rate limiter.
type Counters = Omit<QuickBooksStats, 'maxConcurrencyByRealm'>;

function emptyCounters(): Counters {
  return { ...emptyProviderStats(QUICKBOOKS_RATE_LIMIT_PROBLEMS), batchItems: 0 };
}
