/**
 * What tests can do to any accounting-provider emulator (Xero, QuickBooks): register clients,
 * age or revoke tokens, inject faults and latency, change limits, move the clock and read
 * stats. Providers add their data-seeding calls on top.
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { emptyApiStats, type ApiStats } from './api-pipeline';
import { FaultQueue, type Fault, type FaultOptions } from './fault-injection';
import { close, listen, serverUrl } from './http-helpers';
import { emptyOAuthStats, type OAuthStats } from './oauth-server';
import { OAuthTokens, type OAuthClient, type TokenPolicy } from './oauth-tokens';
import { offsetClock, type Clock } from './rate-limiter';

/** Options every provider emulator takes; providers add their own. */
export interface ProviderEmulatorOptions<C extends OAuthClient, L> {
  port?: number;
  host?: string;
  limits?: Partial<L>;
  accessTokenTtlSeconds?: number;
  /** A refresh token not exchanged within this time is dead. */
  refreshTokenTtlSeconds?: number;
  /** How long a rotated-out refresh token keeps working. */
  refreshTokenReuseGraceSeconds?: number;
  latencyMs?: number;
  /** Delay before the token endpoint answers (the grant is decided after it, as a slow server would). */
  tokenLatencyMs?: number;
  clients?: C[];
  now?: Clock;
}

export interface ProviderEmulator<C extends OAuthClient, O extends FaultOptions, L, S> {
  readonly url: string;
  readonly port: number;
  /** Closes the listener and every open socket. */
  stop(): Promise<void>;
  registerClient(client: C): void;
  expireAllTokens(): void;
  revokeRefreshTokens(): void;
  /** The next `n` calls to the target surface answer `status` instead of being served. */
  failNext(n: number, status: number, options?: O): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  /** Delays the token endpoint's answers (to race refreshers). */
  setTokenLatency(ms: number): void;
  /** Whether a refresh token is still live (not revoked or expired; rotation keeps it for the grace period). */
  hasRefreshToken(token: string): boolean;
  setLimits(limits: Partial<L>): void;
  /** Moves the emulator's clock forward, rolling rate windows and expiring tokens without waiting. */
  advanceTime(ms: number): void;
  now(): number;
  stats(): S;
  resetStats(): void;
  /** Empties every rate window, as if a quiet day had passed. */
  resetRateLimits(): void;
}

/** Delays the emulator adds before answering, changeable while it runs. */
export interface Latency {
  apiMs: number;
  tokenMs: number;
}

/** What every provider emulator counts: API calls and their outcomes, grants, consents. */
export type ProviderStats<P extends string> = ApiStats<P> & OAuthStats;

/** Zeroed API and OAuth counters. */
export function emptyProviderStats<P extends string>(problems: readonly P[]): ProviderStats<P> {
  return { ...emptyApiStats(problems), ...emptyOAuthStats() };
}

export type ProviderCore<C extends OAuthClient, G extends object, O extends FaultOptions, K> = ReturnType<
  typeof providerCore<C, G, O, K>
>;

/**
 * The state every provider emulator starts from: its clock, app, clients, tokens, faults,
 * latency and counters (`K`: the shared ones plus the provider's own).
 */
export function providerCore<C extends OAuthClient, G extends object, O extends FaultOptions, K>(
  provider: string,
  options: ProviderEmulatorOptions<C, unknown>,
  policy: TokenPolicy,
  freshCounters: () => K & { faultsInjected: number },
) {
  const clock = offsetClock(options.now);
  const clients = new Map<string, C>();
  for (const client of options.clients ?? []) clients.set(client.clientId, { ...client });
  const latency: Latency = { apiMs: options.latencyMs ?? 0, tokenMs: options.tokenLatencyMs ?? 0 };
  const faults = new FaultQueue<O>();
  const stats = freshCounters();
  return {
    clock,
    now: clock.now,
    app: emulatorApp(),
    clients,
    tokens: new OAuthTokens<G>(policy, clock.now),
    faults,
    latency,
    stats,
    freshCounters,
    /** Seeding helpers refuse clients the emulator was never told about. */
    requireClient(clientId: string): void {
      if (!clients.has(clientId)) throw new Error(`${provider} emulator: unknown client ${clientId}`);
    },
    /** Answers with the next injected fault for a surface, counting it; false when none is queued. */
    faultTaker(answer: (res: Response, fault: Fault<O>) => void): (target: 'api' | 'token', res: Response) => boolean {
      return (target, res) => {
        const fault = faults.take(target);
        if (!fault) return false;
        stats.faultsInjected += 1;
        answer(res, fault);
        return true;
      };
    },
  };
}

// No `X-Powered-By` and no ETags: neither provider sends them.
function emulatorApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  return app;
}

/** Mounts the fallbacks, starts listening and builds the controls every provider emulator shares. */
export async function startProviderEmulator<C extends OAuthClient, O extends FaultOptions, L, S, K>(parts: {
  options: ProviderEmulatorOptions<C, L>;
  core: ProviderCore<C, object, O, K>;
  /** Answers requests no route matched. */
  notFound: RequestHandler;
  /** Answers a request whose handler failed before answering. */
  failed: (err: unknown, res: Response) => void;
  setLimits: (limits: Partial<L>) => void;
  /** Where the peak concurrency per tenant or realm is kept. */
  concurrency: { peaks(): Record<string, number>; resetPeaks(): void };
  report: (counters: K, peaks: Record<string, number>) => S;
  resetRateLimits: () => void;
}): Promise<ProviderEmulator<C, O, L, S>> {
  const { app, clients, tokens, faults, latency, clock, stats } = parts.core;
  const { concurrency } = parts;
  app.use(parts.notFound);
  app.use((err: unknown, _req: Request, res: Response, next: (err: unknown) => void) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    parts.failed(err, res);
  });
  const server: Server = await listen(app, parts.options.port ?? 0, parts.options.host ?? '127.0.0.1');
  const { url, port } = serverUrl(server);
  return {
    url,
    port,
    stop: () => close(server),
    registerClient: (client) => void clients.set(client.clientId, { ...client }),
    expireAllTokens: () => tokens.expireAllAccess(),
    revokeRefreshTokens: () => tokens.refresh.clear(),
    failNext: (n, status, options) => faults.push(n, status, options ?? ({} as O)),
    clearFaults: () => faults.clear(),
    setLatency: (ms) => {
      latency.apiMs = ms;
    },
    setTokenLatency: (ms) => {
      latency.tokenMs = ms;
    },
    hasRefreshToken: (token) => tokens.refresh.has(token),
    setLimits: parts.setLimits,
    advanceTime: clock.advance,
    now: clock.now,
    stats: () => parts.report(structuredClone(stats), concurrency.peaks()),
    resetStats: () => {
      Object.assign(stats, parts.core.freshCounters());
      concurrency.resetPeaks();
    },
    resetRateLimits: parts.resetRateLimits,
  };
}
