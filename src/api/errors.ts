import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../logger';
import { isDatabaseUnavailable } from '../db/pool';
import { errorBody } from '../shared/error-envelope';

/** An error the client caused or should know about, answered with the JSON envelope. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export { errorBody };

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
      return sendError(res, new HttpError(503, 'storage_unavailable', 'Storage is unavailable; try again later', undefined, retry));
    }
    const e = err as { type?: string; status?: number; expose?: boolean; message?: string };
    if (e.type === 'entity.too.large') {
      return sendError(res, new HttpError(413, 'payload_too_large', 'The request body is larger than allowed'));
    }
    if (e.type === 'entity.parse.failed') {
      return sendError(res, new HttpError(400, 'malformed_json', 'The request body is not valid JSON'));
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      return sendError(res, new HttpError(e.status, 'bad_request', e.message ?? 'Bad request'));
    }
    logger.error({ err, path: req.path }, 'unhandled error');
    sendError(res, new HttpError(500, 'internal_error', 'Something went wrong on our side'));
  };
}
