import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import { prettyDestination, resolveLogFormat, type LogFormat } from './log-format';

/** Paths pino blanks wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'apiKey',
  'clientSecret',
  'client_secret',
  'accessToken',
  'refreshToken',
  'signingSecret',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.clientSecret',
  '*.client_secret',
  '*.accessToken',
  '*.refreshToken',
  '*.signingSecret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export type Logger = pino.Logger;

/** The active span's ids (none when tracing is off), so a log line leads to its trace. */
function traceFields(): Record<string, string> {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

export interface LoggerOptions {
  level: string;
  name?: string;
  /** Which process this is (`launcher`, `api`, `worker`), shown on every line. */
  role?: string;
  /** `auto` (the default) writes human-readable lines on a terminal, JSON elsewhere. */
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: { service: options.name ?? 'switchyard', ...(options.role ? { role: options.role } : {}) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceFields,
  };
  return resolveLogFormat(options.format ?? 'auto') === 'pretty'
    ? pino(pinoOptions, prettyDestination())
    : pino(pinoOptions);
}
