import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../platform/logger';
import { isDatabaseUnavailable } from '../platform/db/pool';
import { errorBody, HttpError } from '../platform/http/error-envelope';

export { errorBody, HttpError };

export function sendError(res: Response, err: HttpError): void {
  if (err.headers) res.set(err.headers);
  res.status(err.status).json(errorBody(err.code, err.message, err.details));
}

/** Parses with a zod schema or throws a 400 listing every problem by field path. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new HttpError(
    400,
    'validation_failed',
    `The ${what} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

/** How a failure to read a request body is answered; null when the error is not one. */
export function bodyReadRefusal(
  err: unknown,
  limitBytes: number,
): { status: number; code: string; message: string; close: boolean } | null {
  const e = (err ?? {}) as { type?: unknown; status?: unknown; expose?: unknown; message?: unknown };
  // The router's decoding of a path parameter (`/hooks/generic/%E0%A4%A`).
  if (err instanceof URIError) {
    return { status: 400, code: 'invalid_path', message: 'The path has malformed percent-encoding', close: false };
  }
  switch (e.type) {
    case 'entity.too.large':
      return { status: 413, code: 'payload_too_large', message: `The body exceeds ${limitBytes} bytes`, close: true };
    case 'request.aborted':
      return {
        status: 400,
        code: 'request_aborted',
        message: 'The request body was not completely received',
        close: true,
      };
    case 'request.size.invalid':
      return {
        status: 400,
        code: 'content_length_mismatch',
        message: 'The body length does not match Content-Length',
        close: true,
      };
    case 'encoding.unsupported':
      return {
        status: 415,
        code: 'unsupported_content_encoding',
        message: String(e.message ?? 'Unsupported content encoding'),
        close: false,
      };
    case 'charset.unsupported':
      return {
        status: 415,
        code: 'unsupported_charset',
        message: String(e.message ?? 'Unsupported charset'),
        close: false,
      };
    case 'entity.parse.failed':
      return { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON', close: false };
    default:
      break;
  }
  // body-parser's own 4xx without a type: a body that cannot be inflated (bad gzip/deflate/br).
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true) {
    return { status: e.status, code: 'invalid_body_encoding', message: 'The body could not be decoded', close: false };
  }
  return null;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `No route for ${req.method} ${req.path}`));
};

/** The last middleware: every failure leaves as the JSON envelope; a bug is a 500 without internals. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof HttpError) return sendError(res, err);
    if (isDatabaseUnavailable(err)) {
      logger.error({ err: (err as Error).message, path: req.path }, 'PostgreSQL unavailable');
      const retry = { 'retry-after': '5' };
      return sendError(
        res,
        new HttpError(503, 'storage_unavailable', 'Storage is unavailable; try again later', undefined, retry),
      );
    }
    const e = err as { type?: string; status?: number; expose?: boolean; message?: string };
    const refusal = bodyReadRefusal(err, Number.NaN);
    if (refusal) {
      // The unread rest of the body is not waited for: the connection closes after the answer.
      if (refusal.close) res.set('Connection', 'close');
      const message = refusal.status === 413 ? 'The request body is larger than allowed' : refusal.message;
      return sendError(res, new HttpError(refusal.status, refusal.code, message));
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      return sendError(res, new HttpError(e.status, 'bad_request', e.message ?? 'Bad request'));
    }
    logger.error({ err, path: req.path }, 'unhandled error');
    sendError(res, new HttpError(500, 'internal_error', 'Something went wrong on our side'));
  };
}
