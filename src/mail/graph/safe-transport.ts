import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import {
  AuthenticationHandler,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
  type AuthenticationProvider,
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import type { IncomingMessage } from 'node:http';
import {
  BlockedDestinationError,
  safeRequest,
  safeRequestStream,
  type DestinationPolicy,
} from '../../platform/http/safe-request';

/**
 * MSAL and the Graph SDK bring their own HTTP stacks (global fetch, redirects followed). Both are
 * routed here instead, through the one connect-time guard in `safe-request.ts`: private targets
 * refused unless allow-listed, no redirects, a hard timeout and a capped response, counted as it
 * arrives.
 */
export interface OutboundHttp {
  policy: DestinationPolicy;
  timeoutMs: number;
}

const MSAL_MAX_RESPONSE_BYTES = 1024 * 1024;
// A cap on any one Graph body, counted as it arrives; attachments have their own, lower one.
const GRAPH_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const GRAPH_MAX_ERROR_BYTES = 1024 * 1024;

/** The MSAL error code for a refused destination; classified as a setting to fix, not retried. */
export const BLOCKED_DESTINATION_CODE = 'blocked_destination';

/** MSAL rethrows its own AuthError as it is; anything else would become a retryable network error. */
function msalError(err: unknown): Error {
  if (err instanceof BlockedDestinationError) return new AuthError(BLOCKED_DESTINATION_CODE, err.message);
  return err instanceof Error ? err : new Error(String(err));
}

/** MSAL's `system.networkClient`: token and metadata calls through the guard. */
export function msalNetworkClient(http: OutboundHttp): INetworkModule {
  const send = async <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeout?: number) => {
    try {
      const res = await safeRequest({
        method,
        url,
        ...(options?.headers ? { headers: options.headers } : {}),
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        timeoutMs: Math.min(timeout ?? http.timeoutMs, http.timeoutMs),
        maxResponseBytes: MSAL_MAX_RESPONSE_BYTES,
        policy: http.policy,
      });
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        throw new AuthError(
          'token_parsing_error',
          `The identity platform answered ${res.status} with a body that is not JSON`,
        );
      }
      return { headers: res.headers, body: body as T, status: res.status } satisfies NetworkResponse<T>;
    } catch (err) {
      throw msalError(err);
    }
  };
  return {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function headerRecord(headers: unknown): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers as Array<[string, string]>);
  return Object.fromEntries(Object.entries(headers as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

function bodyBytes(body: unknown): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('Graph request bodies must be strings or bytes');
}

/** Asks the guarded transport for the body as a stream: `.middlewareOptions([new StreamResponse()])`. */
export class StreamResponse implements MiddlewareOptions {}

const streamAsked = (context: Context) =>
  context.middlewareControl?.getMiddlewareOptions(StreamResponse) instanceof StreamResponse;

/** Raised inside a streamed Graph body that outgrew the transport's cap (the stream errors with it). */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
}

/**
 * A web stream over a response body, pulled (so the socket is read only as fast as the consumer
 * reads) and counted as it arrives: past `maxBytes` the socket is closed and the stream errors.
 * Cancelling it (a consumer that has seen enough) closes the socket too.
 */
function countedStream(body: IncomingMessage, maxBytes: number): ReadableStream<Uint8Array> {
  const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) return controller.close();
      seen += value.length;
      if (seen > maxBytes) {
        const err = new ResponseTooLargeError(`Graph response larger than ${maxBytes} bytes`);
        body.destroy(err);
        return controller.error(err);
      }
      controller.enqueue(value);
    },
    cancel() {
      body.destroy();
    },
  });
}

/**
 * The last link of the Graph middleware chain: the SDK's fetch replaced by the guarded request.
 * A request carrying `StreamResponse` gets a successful body as a stream (an attachment's
 * `$value` is read as it arrives, never held whole here). Every other body is read here, counted
 * as it arrives: the SDK leaves some unread (an empty 202, a response its retry handler drops),
 * and a stream nobody reads would hold its socket until the deadline.
 */
export class SafeGraphHttpHandler implements Middleware {
  constructor(private readonly http: OutboundHttp) {}

  async execute(context: Context): Promise<void> {
    const request = context.request;
    const url = typeof request === 'string' ? request : request.url;
    const options = context.options ?? {};
    const method = (options.method ?? 'GET').toUpperCase() as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    const body = bodyBytes(options.body);
    const res = await safeRequestStream({
      method,
      url,
      headers: headerRecord(options.headers),
      ...(body === undefined ? {} : { body }),
      timeoutMs: this.http.timeoutMs,
      policy: this.http.policy,
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) headers.set(k, v);
    let content: ReadableStream<Uint8Array> | Uint8Array | null;
    const ok = res.status >= 200 && res.status < 300;
    if (NULL_BODY_STATUSES.has(res.status)) {
      res.body.destroy();
      content = null;
    } else if (ok && streamAsked(context)) {
      content = countedStream(res.body, GRAPH_MAX_RESPONSE_BYTES);
    } else {
      content = await readCapped(res.body, ok ? GRAPH_MAX_RESPONSE_BYTES : GRAPH_MAX_ERROR_BYTES);
    }
    context.response = new Response(content, { status: res.status, headers });
  }
}

/** Reads a (small) body whole; one past `maxBytes` is an error rather than a truncated JSON text. */
async function readCapped(body: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ResponseTooLargeError(`Graph error response larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** The SDK's default chain without its redirect handler and with the guarded request at the end. */
export function graphMiddleware(authProvider: AuthenticationProvider, http: OutboundHttp): Middleware[] {
  return [
    new AuthenticationHandler(authProvider),
    new RetryHandler(new RetryHandlerOptions()),
    new TelemetryHandler(),
    new SafeGraphHttpHandler(http),
  ];
}
