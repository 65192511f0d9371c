/** Injected failures, answered the way QuickBooks fails: a Fault envelope and `intuit_tid`. */
import type { Response } from 'express';
import { answerFault, type Fault, type FaultOptions } from '../fault-injection';
import { systemFaultBody, throttleBody } from './errors';

export type QuickBooksFaultOptions = FaultOptions;

/**
 * Writes an injected fault; `retryAfter` is the emulator's configured `Retry-After` for a 429
 * (null or 'window' leave it to the fault's own `retryAfter`).
 */
export function answerQuickBooksFault(
  res: Response,
  fault: Fault<QuickBooksFaultOptions>,
  retryAfter: number | 'window' | null,
  time: string,
): void {
  const { status, options } = fault;
  const retry = options.retryAfter ?? (status === 429 && typeof retryAfter === 'number' ? retryAfter : undefined);
  answerFault(res, fault, {
    headers: retry === undefined ? {} : { 'Retry-After': String(retry) },
    defaultBody: () => res.json(status === 429 ? throttleBody(time) : systemFaultBody(time, status)),
  });
}
