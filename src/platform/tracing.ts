import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Config } from './config';

/**
 * OpenTelemetry tracing, off unless the standard OTEL_* settings name an exporter. Everything
 * here is safe to call when it is off: the API's no-op tracer makes no spans, and the
 * helpers then only run the function they wrap.
 */

export const TRACER_NAME = 'switchyard';

export interface TracingSettings {
  url: string;
  headers: Record<string, string>;
  serviceName: string;
}

/** Where spans go, from the OTEL_* settings; undefined when tracing is off. */
export function tracingSettings(config: Config): TracingSettings | undefined {
  if (config.OTEL_SDK_DISABLED || config.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url =
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined) ??
    // The exporter named with no endpoint: the OTLP/HTTP default, a collector on this machine.
    (config.OTEL_TRACES_EXPORTER === 'otlp' ? 'http://localhost:4318/v1/traces' : undefined);
  if (!url) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of (config.OTEL_EXPORTER_OTLP_HEADERS ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return { url, headers, serviceName: config.OTEL_SERVICE_NAME };
}

/** The installed pipeline of one process: what the Temporal worker's workflow sink needs, and a flush. */
export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/** The pipeline when tracing is on (after `startTracing`), else undefined. */
export const activeTracing = (): Tracing | undefined => installed;

/**
 * Installs the global tracer provider, W3C trace-context propagation and the OTLP/HTTP
 * exporter for this process (once); undefined when tracing is off.
 */
export function startTracing(config: Config, role: string): Tracing | undefined {
  if (installed) return installed;
  const settings = tracingSettings(config);
  if (!settings) return undefined;
  const resource = new Resource({ 'service.name': settings.serviceName, 'switchyard.role': role });
  const spanProcessor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: settings.url, headers: settings.headers }),
    // Short enough that a trace shows up while someone is still looking at what they did.
    { scheduledDelayMillis: 1000 },
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  installed = { resource, spanProcessor, shutdown: () => provider.shutdown() };
  return installed;
}

export const tracer = () => trace.getTracer(TRACER_NAME);

/** The active span's context as a `traceparent` header value; undefined with no sampled span. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'];
}

/** A context whose parent is the span a `traceparent` names (ROOT for none or garbage). */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/** A link to the span a `traceparent` names, for work done for many traces at once. */
export function linkTo(traceparent: string | null | undefined): Link | undefined {
  const spanContext = trace.getSpanContext(contextFromTraceparent(traceparent));
  return spanContext ? { context: spanContext } : undefined;
}

/** Adds the active context's `traceparent` (and `tracestate`) to outgoing request headers. */
export function injectTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent; the active context when not given. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new span that ends when it settles (an error marks it failed). With
 * tracing off this is `fn(noopSpan)`.
 */
export async function inSpan<T>(name: string, o: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = o.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: o.kind ?? SpanKind.INTERNAL, ...(o.attributes ? { attributes: o.attributes } : {}), links: o.links ?? [] },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanKind, SpanStatusCode };
