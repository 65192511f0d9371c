/**
 * The path every accounting API call takes in the provider emulators: count it, maybe fail it
 * on purpose, authenticate the bearer token, find the tenant or realm, admit it past the rate
 * limits, wait the configured latency and serve it. Each provider supplies its answers.
 */
import type { Request, RequestHandler, Response } from 'express';
import { delay } from './http-helpers';
import type { Admission } from './rate-limiter';

/** What the API side of an emulator counts. */
export interface ApiStats<P extends string> {
  /** Every request that reached an API route, whatever its outcome. */
  apiCalls: number;
  /** Calls admitted past authentication and rate limits (the ones that cost quota). */
  apiCallsServed: number;
  callsByEndpoint: Record<string, number>;
  rateLimited: Record<P, number>;
  unauthorized: number;
  forbidden: number;
  faultsInjected: number;
}

export function emptyApiStats<P extends string>(problems: readonly P[]): ApiStats<P> {
  return {
    apiCalls: 0,
    apiCallsServed: 0,
    callsByEndpoint: {},
    rateLimited: Object.fromEntries(problems.map((p) => [p, 0])) as Record<P, number>,
    unauthorized: 0,
    forbidden: 0,
    faultsInjected: 0,
  };
}

export interface ApiPipeline<Grant, Scope, P extends string> {
  stats: ApiStats<P>;
  /** Runs first; answers (and returns true) for calls refused before the API sees them. */
  gateway?: (req: Request, res: Response) => boolean;
  takeFault: (res: Response) => boolean;
  /** The caller's grant, or what to tell a caller without a valid one. */
  authenticate: (req: Request) => { grant: Grant } | { detail: string };
  refuseUnauthenticated: (res: Response, detail: string) => void;
  /** The tenant or realm the call is about, if the grant reaches it. */
  scopeOf: (req: Request, grant: Grant) => Scope | undefined;
  refuseForbidden: (res: Response) => void;
  admit: (scope: Scope) => Admission<P>;
  refuseLimited: (res: Response, scope: Scope, problem: P, retryAfterSeconds: number) => void;
  /** Runs for every admitted call, before the latency (e.g. quota headers). */
  admitted?: (res: Response, scope: Scope) => void;
  latencyMs: () => number;
  /** Answers an error the handler threw on purpose; returns false for real bugs. */
  answerError?: (res: Response, error: unknown) => boolean;
}

export type ApiHandler<Grant, Scope> = (req: Request, res: Response, scope: Scope, grant: Grant) => void;

/** Wraps a handler in the pipeline, counting it under `endpoint`. */
export function apiRoute<Grant, Scope, P extends string>(
  pipeline: ApiPipeline<Grant, Scope, P>,
  endpoint: string,
  handler: ApiHandler<Grant, Scope>,
): RequestHandler {
  const { stats } = pipeline;
  return async (req, res) => {
    stats.apiCalls += 1;
    stats.callsByEndpoint[endpoint] = (stats.callsByEndpoint[endpoint] ?? 0) + 1;
    if (pipeline.gateway?.(req, res)) return;
    if (pipeline.takeFault(res)) return;
    const auth = pipeline.authenticate(req);
    if ('detail' in auth) {
      stats.unauthorized += 1;
      pipeline.refuseUnauthenticated(res, auth.detail);
      return;
    }
    const scope = pipeline.scopeOf(req, auth.grant);
    if (scope === undefined) {
      stats.forbidden += 1;
      pipeline.refuseForbidden(res);
      return;
    }
    const admission = pipeline.admit(scope);
    if (!admission.ok) {
      stats.rateLimited[admission.problem] += 1;
      pipeline.refuseLimited(res, scope, admission.problem, admission.retryAfterSeconds);
      return;
    }
    // 'close' fires on completion and on client abort alike, so the slot always returns.
    res.once('close', admission.release);
    try {
      stats.apiCallsServed += 1;
      pipeline.admitted?.(res, scope);
      const latencyMs = pipeline.latencyMs();
      if (latencyMs > 0) await delay(latencyMs, res);
      if (res.destroyed) return;
      handler(req, res, scope, auth.grant);
    } catch (error) {
      if (!pipeline.answerError?.(res, error)) throw error;
    } finally {
      if (res.writableEnded || res.destroyed) admission.release();
    }
  };
}
