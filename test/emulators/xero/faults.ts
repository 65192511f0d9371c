/** Injected failures, answered the way Xero fails: problem+json, or a bare 429 naming the limit hit. */
import type { Response } from 'express';
import { answerFault, type Fault, type FaultOptions } from '../fault-injection';
import { defaultFaultDetail, problem } from './errors';
import type { XeroRateLimitProblem } from './rate-limits';

export interface XeroFaultOptions extends FaultOptions {
  /** `X-Rate-Limit-Problem` for an injected 429. */
  problem?: XeroRateLimitProblem;
}

export function answerXeroFault(res: Response, fault: Fault<XeroFaultOptions>): void {
  const { status, options } = fault;
  const headers: Record<string, string> = {};
  if (options.retryAfter !== undefined) headers['Retry-After'] = String(options.retryAfter);
  if (status === 429) {
    headers['X-Rate-Limit-Problem'] = options.problem ?? 'minute';
    headers['Retry-After'] ??= '60';
  }
  answerFault(res, fault, {
    headers,
    defaultBody: () => {
      if (status === 429) res.end();
      else res.json(problem(status, defaultFaultDetail(status)));
    },
  });
}
