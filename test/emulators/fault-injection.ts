/** Failure injection shared by the provider emulators: "the next n calls answer this status". */
import type { Response } from 'express';

export interface FaultOptions {
  retryAfter?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Which surface fails: the accounting API (default) or the token endpoint. */
  target?: 'api' | 'token';
}

export interface Fault<O extends FaultOptions> {
  status: number;
  options: O;
}

/** Faults queued by `failNext`, taken in order by the surface they target. */
export class FaultQueue<O extends FaultOptions> {
  private readonly queued: (Fault<O> & { remaining: number })[] = [];

  push(n: number, status: number, options: O): void {
    if (n > 0) this.queued.push({ remaining: n, status, options });
  }

  clear(): void {
    this.queued.splice(0);
  }

  /** Takes one use of the first fault aimed at `target`, if any. */
  take(target: 'api' | 'token'): Fault<O> | undefined {
    const index = this.queued.findIndex((fault) => (fault.options.target ?? 'api') === target);
    const fault = this.queued[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.queued.splice(index, 1);
    return { status: fault.status, options: fault.options };
  }
}

/**
 * Writes an injected fault: the provider's headers, then the caller's, then the caller's body
 * (text or JSON) or, without one, the provider's default answer for that status.
 */
export function answerFault<O extends FaultOptions>(
  res: Response,
  fault: Fault<O>,
  provider: { headers: Record<string, string>; defaultBody: (res: Response) => void },
): void {
  const { status, options } = fault;
  res.set(provider.headers);
  if (options.headers) res.set(options.headers);
  res.status(status);
  if (options.body === undefined) provider.defaultBody(res);
  else if (typeof options.body === 'string') res.type('text/plain').send(options.body);
  else res.json(options.body);
}
