// A local stand-in for Xero's identity server and Accounting API. It speaks Xero's wire
// shapes (Microsoft JSON dates, PascalCase envelopes, problem+json 401/403, rolling rate
// limits with X-*-Remaining headers) so that clients built against it behave the same
// against the real service. One process serves both identity.xero.com and api.xero.com.
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { apiRoute, type ApiPipeline } from '../api-pipeline';
import { emptyProviderStats, providerCore, startProviderEmulator } from '../provider-emulator';
import type { ProviderEmulator, ProviderEmulatorOptions, ProviderStats } from '../provider-emulator';
import { accountingRoutes } from './accounting-routes';
import { NOT_FOUND_TEXT, defaultFaultDetail, problem } from './errors';
import { answerXeroFault, type XeroFaultOptions } from './faults';
import {
  XERO_DEFAULT_SCOPE,
  mountXeroIdentity,
  xeroBearer,
  xeroTokenPolicy,
  type XeroClient,
  type XeroConsent,
  type XeroGrant,
} from './identity';
import { createXeroLedger, readStored, type TenantData } from './ledger';
import {
  XERO_RATE_LIMIT_PROBLEMS,
  createXeroRateLimits,
  type XeroLimits,
  type XeroRateLimitProblem,
} from './rate-limits';
import type {
  XeroContact,
  XeroContactInput,
  XeroCreditNote,
  XeroCreditNoteInput,
  XeroInvoice,
  XeroInvoiceInput,
  XeroTenant,
} from './resources';

export interface XeroEmulatorOptions extends ProviderEmulatorOptions<XeroClient, XeroLimits> {
  /** Window lengths, shortened only by demos that want to see windows roll in real time. */
  windowMs?: { minute?: number; day?: number };
  /** A refresh token not exchanged within this time is dead (Xero: 60 days). */
  refreshTokenTtlSeconds?: number;
  tenants?: { tenantId: string; name?: string }[];
  /** Longer request targets are refused by the gateway with 414 (Xero caps `IDs` near 50 GUIDs). */
  maxUrlLength?: number;
  maxIdsPerRequest?: number;
}

export interface XeroStats extends ProviderStats<XeroRateLimitProblem> {
  /** Resource ids asked for through `IDs`/`ContactIDs`, to judge how well callers batch. */
  idsRequested: number;
  maxConcurrencyByTenant: Record<string, number>;
}

export interface XeroEmulator extends ProviderEmulator<XeroClient, XeroFaultOptions, XeroLimits, XeroStats> {
  /** Issues a one-time code, as Xero's consent screen would after a user approves the app. */
  issueAuthorizationCode(input: {
    clientId: string;
    tenantIds?: string[];
    scope?: string;
    redirectUri?: string;
  }): string;
  addTenant(tenantId: string, name?: string): XeroTenant;
  upsertInvoice(tenantId: string, input: XeroInvoiceInput): XeroInvoice;
  getInvoice(tenantId: string, invoiceId: string): XeroInvoice | undefined;
  upsertContact(tenantId: string, input: XeroContactInput): XeroContact;
  getContact(tenantId: string, contactId: string): XeroContact | undefined;
  upsertCreditNote(tenantId: string, input: XeroCreditNoteInput): XeroCreditNote;
  getCreditNote(tenantId: string, creditNoteId: string): XeroCreditNote | undefined;
  listInvoices(tenantId: string): XeroInvoice[];
}

/** Starts a Xero emulator on an ephemeral port (unless `port` is given). */
export async function startXeroEmulator(options: XeroEmulatorOptions = {}): Promise<XeroEmulator> {
  const policy = xeroTokenPolicy(options);
  const core = providerCore<XeroClient, XeroConsent, XeroFaultOptions, Counters>(
    'Xero',
    options,
    policy,
    emptyCounters,
  );
  const { now, clients, tokens, latency, stats } = core;
  const maxUrlLength = options.maxUrlLength ?? 2048;
  const ledger = createXeroLedger(now);
  const limits = createXeroRateLimits(options.limits, options.windowMs, now);
  for (const tenant of options.tenants ?? []) ledger.addTenant(tenant.tenantId, tenant.name);

  const takeFault = core.faultTaker(answerXeroFault);

  const pipeline: ApiPipeline<XeroGrant, TenantData, XeroRateLimitProblem> = {
    stats,
    gateway: (req, res) => {
      if (req.originalUrl.length <= maxUrlLength) return false;
      // The gateway refuses before the API sees the call, so no quota is spent.
      res.status(414).type('text/html').send('<html><body><h1>414 Request-URI Too Large</h1></body></html>');
      return true;
    },
    takeFault: (res) => takeFault('api', res),
    authenticate: (req) => xeroBearer(tokens, req),
    refuseUnauthenticated: (res, detail) => {
      limits.setRemaining(res, undefined);
      res.status(401).json(problem(401, detail));
    },
    scopeOf: (req, grant) => tenantFor(req, grant),
    refuseForbidden: (res) => {
      limits.setRemaining(res, undefined);
      res.status(403).json(problem(403, 'AuthenticationUnsuccessful'));
    },
    admit: (data) => limits.admit(data.tenant.tenantId),
    refuseLimited: (res, data, limited, retryAfterSeconds) => {
      limits.setRemaining(res, data.tenant.tenantId);
      res.set('Retry-After', String(retryAfterSeconds));
      res.set('X-Rate-Limit-Problem', limited);
      res.status(429).end();
    },
    admitted: (res, data) => limits.setRemaining(res, data.tenant.tenantId),
    latencyMs: () => latency.apiMs,
  };

  function tenantFor(req: Request, grant: XeroGrant): TenantData | undefined {
    const requested = req.get('xero-tenant-id')?.trim().toLowerCase();
    const reach = grant.consent.tenants;
    const allowed = (id: string): boolean => reach === 'all' || reach.some((t) => t.toLowerCase() === id);
    if (requested) return allowed(requested) ? ledger.findTenant(requested) : undefined;
    // A custom connection is bound to one organisation, so Xero lets it omit the header.
    if (grant.grantType === 'client_credentials' && reach !== 'all' && reach.length === 1) {
      return ledger.findTenant(reach[0]?.toLowerCase() ?? '');
    }
    return undefined;
  }

  const { app } = core;
  mountXeroIdentity({ ...core, ledger, takeFault: (res) => takeFault('token', res) });
  const routes = accountingRoutes({
    now,
    maxIds: options.maxIdsPerRequest ?? 60,
    countIds: (n) => {
      stats.idsRequested += n;
    },
  });
  for (const route of routes) {
    app.get(
      `/api.xro/2.0/${route.path}`,
      apiRoute(pipeline, route.endpoint, (req, res, data, grant) =>
        route.handle(req, res, data, clients.get(grant.clientId)),
      ),
    );
  }
  const controls = await startProviderEmulator<XeroClient, XeroFaultOptions, XeroLimits, XeroStats, Counters>({
    options,
    core,
    notFound: (_req, res) => {
      res.status(404).type('text/plain').send(NOT_FOUND_TEXT);
    },
    failed: (_err, res) => {
      res.status(500).json(problem(500, defaultFaultDetail(500)));
    },
    setLimits: (next) => limits.setLimits(next),
    concurrency: limits.tenants,
    report: (counted, peaks) => ({ ...counted, maxConcurrencyByTenant: peaks }),
    resetRateLimits: () => limits.reset(),
  });

  return {
    ...controls,
    issueAuthorizationCode: (input) => {
      core.requireClient(input.clientId);
      const consent: XeroConsent = {
        authId: randomUUID(),
        tenants: input.tenantIds ?? 'all',
        scope: input.scope ?? `offline_access ${XERO_DEFAULT_SCOPE}`,
      };
      return tokens.issueCode(input.clientId, consent, input.redirectUri);
    },
    addTenant: ledger.addTenant,
    upsertInvoice: ledger.upsertInvoice,
    getInvoice: (tenantId, id) => readStored(ledger.requireTenant(tenantId).invoices, id),
    listInvoices: (tenantId) =>
      [...ledger.requireTenant(tenantId).invoices.values()].map((s) => structuredClone(s.value)),
    upsertContact: ledger.upsertContact,
    getContact: (tenantId, id) => readStored(ledger.requireTenant(tenantId).contacts, id),
    upsertCreditNote: ledger.upsertCreditNote,
    getCreditNote: (tenantId, id) => readStored(ledger.requireTenant(tenantId).creditNotes, id),
  };
}

// What the emulator counts itself; peak concurrency is read from the rate limiter.
type Counters = Omit<XeroStats, 'maxConcurrencyByTenant'>;

function emptyCounters(): Counters {
  return { ...emptyProviderStats(XERO_RATE_LIMIT_PROBLEMS), idsRequested: 0 };
}
