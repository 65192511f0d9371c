/**
 * QuickBooks' error answers: `Fault` envelopes (ValidationFault, SystemFault, SERVICE,
 * SECURITY), the lower-case `fault` of a failed authentication, and the error a handler
 * throws to answer with one.
 */
import { randomUUID } from 'node:crypto';

export interface QboError {
  Message: string;
  Detail: string;
  code: string;
  element?: string;
}

/** Thrown while handling a request to answer with a QuickBooks Fault. */
export class QboFaultError extends Error {
  constructor(
    readonly status: number,
    readonly faultType: string,
    readonly error: QboError,
  ) {
    super(error.Detail || error.Message);
    this.name = 'QboFaultError';
  }
}

/** A `Fault` envelope stamped with the company's `time`. */
export function faultBody(time: string, type: string, ...errors: QboError[]): object {
  return { Fault: { Error: errors, type }, time };
}

export function throttleBody(time: string): object {
  return faultBody(time, 'SERVICE', {
    Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
    Detail: 'ThrottleExceeded',
    code: '3001',
  });
}

export function systemFaultBody(time: string, status: number): object {
  return faultBody(time, 'SystemFault', {
    Message: 'An application error has occurred while processing your request',
    Detail: `System Failure Error: emulated failure (HTTP ${status})`,
    code: '10000',
  });
}

export function forbiddenBody(time: string): object {
  return faultBody(time, 'SECURITY', {
    Message: 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
    Detail: '',
    code: '3100',
  });
}

// Authentication failures come back in lower case, unlike every other Fault.
export function authFailureBody(time: string, detail: string): object {
  return {
    fault: {
      error: [{ message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401', detail, code: '3200' }],
      type: 'AUTHENTICATION',
    },
    time,
  };
}

export function parseError(detail: string): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Error parsing query',
    Detail: `QueryParserError: ${detail}`,
    code: '4000',
  });
}

export function validationError(detail: string): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Invalid query',
    Detail: `QueryValidationError: ${detail}`,
    code: '4001',
  });
}

export function validationFault(message: string, detail: string, code = '2010'): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', { Message: message, Detail: detail, code });
}

export function objectNotFound(): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Object Not Found',
    Detail:
      "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
    code: '610',
    element: '',
  });
}

export function staleObject(): QboFaultError {
  return new QboFaultError(400, 'ValidationFault', {
    Message: 'Stale Object Error',
    Detail: 'Stale Object Error : You and another user were working on this at the same time. Your work was not saved.',
    code: '5010',
    element: '',
  });
}

/** Intuit's transaction id, sent as `intuit_tid` on every answer. */
export function intuitTid(): string {
  return `1-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}
