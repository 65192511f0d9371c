/**
 * What tests can do to any accounting-provider emulator (Xero, QuickBooks): register clients,
 * age or revoke tokens, inject faults and latency, change limits, move the clock and read
 * stats. Providers add their data-seeding calls on top.
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Response } from 'express';
import type { FaultOptions, FaultQueue } from './fault-injection';
import { close, listen, serverUrl } from './http-helpers';
import type { OAuthClient, OAuthTokens } from './oauth-tokens';

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

/** An Express app set up as both emulators serve: no `X-Powered-By`, no ETags. */
export function emulatorApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  return app;
}

/** Answers with the next injected fault for `target`, counting it; false when none is queued. */
export function faultTaker<O extends FaultOptions>(
  faults: FaultQueue<O>,
  stats: { faultsInjected: number },
  answer: (res: Response, fault: { status: number; options: O }) => void,
): (target: 'api' | 'token', res: Response) => boolean {
  return (target, res) => {
    const fault = faults.take(target);
    if (!fault) return false;
    stats.faultsInjected += 1;
    answer(res, fault);
    return true;
  };
}

/** Starts listening and builds the controls every provider emulator shares. */
export async function startProviderEmulator<C extends OAuthClient, O extends FaultOptions, L, S>(parts: {
  app: express.Express;
  port: number | undefined;
  host: string | undefined;
  clients: Map<string, C>;
  tokens: OAuthTokens<object>;
  faults: FaultQueue<O>;
  latency: Latency;
  clock: { now: () => number; advance: (ms: number) => void };
  setLimits: (limits: Partial<L>) => void;
  stats: () => S;
  resetStats: () => void;
  resetRateLimits: () => void;
}): Promise<ProviderEmulator<C, O, L, S>> {
  const { clients, tokens, faults, latency } = parts;
  const server: Server = await listen(parts.app, parts.port ?? 0, parts.host ?? '127.0.0.1');
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
    advanceTime: parts.clock.advance,
    now: parts.clock.now,
    stats: parts.stats,
    resetStats: parts.resetStats,
    resetRateLimits: parts.resetRateLimits,
  };
}
