import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { ZodError } from 'zod';

/** What a handler answers; the dispatcher turns it into an HTTP response. */
export interface HttpReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Bytes sent as they are (a `$value` download) instead of a JSON body; `headers` carry the type. */
  raw?: Buffer;
}

/** Expected failures travel as values: either the thing asked for or the reply explaining why not. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reply: HttpReply };

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function fail<T>(reply: HttpReply): Outcome<T> {
  return { ok: false, reply };
}

/** A Graph error reply; the dispatcher adds `innerError` with the request ids. */
export function graphError(status: number, code: string, message: string, headers?: Record<string, string>): HttpReply {
  return { status, body: { error: { code, message } }, ...(headers ? { headers } : {}) };
}

/** Context an Entra ID error body embeds: the ids support would ask for. */
export interface AadErrorContext {
  correlationId: string;
  loginBaseUrl: string;
}

/** An Entra ID (AAD) OAuth error in the token endpoint's exact shape. */
export function aadError(
  status: number,
  error: string,
  code: number,
  description: string,
  context: AadErrorContext,
  extra: Record<string, string> = {},
): HttpReply {
  const traceId = randomUUID();
  // AAD writes "2024-05-01 10:11:12Z" here, not ISO 8601 with a T.
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    status,
    headers: { 'x-ms-request-id': traceId },
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${context.correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: context.correlationId,
      error_uri: `${context.loginBaseUrl}/error?code=${code}`,
      ...extra,
    },
  };
}

/** Writes a reply as JSON (or empty for 202/204) with the given content type. */
export function writeReply(res: Response, reply: HttpReply, contentType = 'application/json; charset=utf-8'): void {
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.raw) {
    // Streamed in chunks, as Graph streams `$value` content.
    res.setHeader('Content-Length', String(reply.raw.length));
    const chunk = 64 * 1024;
    for (let at = 0; at < reply.raw.length; at += chunk) res.write(reply.raw.subarray(at, at + chunk));
    res.end();
    return;
  }
  if (reply.body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', contentType);
  res.end(JSON.stringify(reply.body));
}

/** Graph's wording for unknown properties, and a readable summary for other schema failures. */
export function invalidBody(error: ZodError, typeName: string): HttpReply {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    return graphError(
      400,
      'BadRequest',
      `The property '${issue.keys[0] ?? ''}' does not exist on type 'microsoft.graph.${typeName}'. Make sure to only use property names that are defined by the type.`,
    );
  }
  const where = issue?.path.join('.') || 'body';
  return graphError(400, 'BadRequest', `Invalid request body: ${where}: ${issue?.message ?? 'invalid value'}.`);
}
