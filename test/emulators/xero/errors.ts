/** Xero's error answers: problem+json for identity and gateway errors, API exceptions for bad queries. */
import { randomUUID } from 'node:crypto';

export const NOT_FOUND_TEXT = "The resource you're looking for cannot be found";

export function problem(status: number, detail: string): object {
  const titles: Record<number, string> = {
    401: 'Unauthorized',
    403: 'Forbidden',
    500: 'An error occurred',
    503: 'Service Unavailable',
  };
  return {
    Type: null,
    Title: titles[status] ?? 'Error',
    Status: status,
    Detail: detail,
    Instance: randomUUID(),
    Extensions: {},
  };
}

export function apiException(message: string): object {
  return { ErrorNumber: 16, Type: 'QueryParseException', Message: message };
}

export function defaultFaultDetail(status: number): string {
  return status === 503
    ? 'The Xero API is temporarily unavailable'
    : 'An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status.';
}
