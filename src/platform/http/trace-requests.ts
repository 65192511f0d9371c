import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, trace } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode, tracer } from '../tracing';

/** Probes and scrapes: a span each would bury the requests someone is looking for. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

interface RoutedRequest extends IncomingMessage {
  path?: string;
  baseUrl?: string;
  route?: { path?: unknown };
}

/**
 * A server span per request (Express middleware), continuing the caller's trace when it sent a
 * `traceparent`; everything the request does runs inside it. Named by the route that answered
 * (`POST /webhooks/:integrationId`), so one route's requests group together. With tracing off
 * it only calls `next`.
 */
export function traceRequests() {
  return (req: RoutedRequest, res: ServerResponse, next: () => void): void => {
    const path = req.path ?? req.url ?? '';
    if (UNTRACED.has(path)) return next();
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer().startSpan(
      `${req.method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'url.path': path } },
      parent,
    );
    if (!span.isRecording()) return next();
    let ended = false;
    res.on('finish', () => {
      ended = true;
      // The matched route is known once a handler ran: name the span after it, not the raw path.
      if (typeof req.route?.path === 'string') {
        const route = `${req.baseUrl ?? ''}${req.route.path}`.replace(/(.)\/$/, '$1');
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    // A connection that went away before the answer was written.
    res.on('close', () => {
      if (ended) return;
      ended = true;
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the answer' });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
