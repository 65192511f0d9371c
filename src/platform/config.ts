import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseMasterKey, parseMasterKeys } from './security/secret-box';

/** A boolean env var: only the words people actually write, never JS truthiness. */
const envBool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)));

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A comma-separated list of durations (`5s,5m,2h`), parsed to milliseconds. */
const durationList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const out: number[] = [];
      const parts = v.split(',').map((s) => s.trim());
      for (const part of parts.filter(Boolean)) {
        const m = /^(\d+)(ms|s|m|h|d)$/.exec(part);
        if (!m) {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not a duration like 500ms, 5s, 5m, 2h or 1d` });
          return z.NEVER;
        }
        out.push(Number(m[1]) * DURATION_UNITS[m[2]!]!);
      }
      return out;
    });

/** One duration (`90s`, `15m`, `2d`), parsed to milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const m = /^(\d+)(ms|s|m|h|d)$/.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration like 500ms, 5s, 5m, 2h or 1d` });
        return z.NEVER;
      }
      return Number(m[1]) * DURATION_UNITS[m[2]!]!;
    });

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** One TRUST_PROXY entry: an address, a CIDR (`10.0.0.0/8`) or one of Express's named ranges. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which proxies' X-Forwarded-For is believed (Express `trust proxy`): `false` (none), a hop
 * count, or a list of addresses, CIDRs and named ranges. `true` (believe any sender) is
 * refused: any client could then choose the address it is counted under.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): false | number | string[] => {
    const text = (v ?? '').trim();
    if (text === '' || text === 'false') return false;
    if (/^\d{1,2}$/.test(text)) return Number(text) === 0 ? false : Number(text);
    const entries = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = entries.filter((e) => !isProxyEntry(e));
    if (entries.length === 0 || bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `"${bad[0] ?? text}" is not false, a hop count, or a list of proxy addresses, CIDRs or loopback/linklocal/uniquelocal`,
      });
      return z.NEVER;
    }
    return entries;
  });

/** Master keys as text, checked here so a malformed one is a configuration error naming its setting. */
const masterKeyText = (parse: (v: string) => unknown) =>
  z.string().superRefine((v, ctx) => {
    try {
      parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/** Where a crash test's worker kills itself (TEST_CRASH_AFTER_COMMIT). */
export type CrashPoint = 'attempt' | 'forward';

const schema = z.object({
  SWITCHYARD_DATA_DIR: z.string().default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // auto: one readable, coloured line per event on a terminal; JSON (pino) when piped or collected.
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),

  // OpenTelemetry tracing, off unless one of these names an exporter (the standard OTEL_* variables).
  OTEL_SDK_DISABLED: envBool(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().default('switchyard'),

  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: int(3000, 0, 65535),
  PUBLIC_BASE_URL: z.url().optional(),
  BODY_LIMIT_BYTES: int(1024 * 1024, 1024),
  SHUTDOWN_GRACE_SECONDS: int(15, 1, 600),

  DATABASE_URL: z.string().optional(),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  DATABASE_POOL_MIN: int(4, 0, 200),
  DATABASE_POOL_IDLE_SECONDS: int(60, 1, 86_400),
  EMBEDDED_POSTGRES_PORT: int(5433, 1, 65535),
  // Extra server settings for the embedded PostgreSQL, `name=value` separated by commas.
  EMBEDDED_POSTGRES_SETTINGS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine((list) => list.every((s) => /^[a-z_.]+=[^=]+$/i.test(s)), 'must be name=value pairs separated by commas'),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('switchyard'),
  TEMPORAL_TLS: envBool(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_UI_URL: z.string().optional(),
  TEMPORAL_CLI_PATH: z.string().optional(),
  EMBEDDED_TEMPORAL: envBool(true),
  TEMPORAL_UI_PORT: int(8233, 1, 65535),
  TEMPORAL_RETENTION_DAYS: int(30, 1, 3650),
  BACKGROUND_NICE: int(19, 0, 19),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: int(100, 1, 10000),
  WORKER_METRICS_ADDRESS: z.string().default(''),

  // The key that encrypts stored secrets, `[id:]<base64 of 32 bytes>`; required outside `npm start`.
  SWITCHYARD_MASTER_KEY: masterKeyText(parseMasterKey).optional(),
  // Comma-separated keys secrets were encrypted with before; read only, until `npm run keys -- rotate` finishes.
  SWITCHYARD_PREVIOUS_KEYS: masterKeyText(parseMasterKeys).optional(),

  ACCESS_TOKEN_TTL_SECONDS: int(3600, 30, 86400),
  RATE_LIMIT_REQUESTS: int(450, 0),
  RATE_LIMIT_WINDOW_SECONDS: int(300, 1, 86400),

  // Intake: ingress stores work and an outbox row in one transaction; the starter hands it to Temporal.
  INTAKE_STARTER_ENABLED: envBool(true),
  INTAKE_STARTER_CONCURRENCY: int(16, 1, 512),
  INTAKE_STARTER_BATCH: int(500, 1, 10000),
  INTAKE_POLL_INTERVAL_MS: int(1000, 50, 60000),
  INTAKE_BACKLOG_LIMIT: int(100000, 0),
  INTAKE_RETRY_AFTER_SECONDS: int(5, 1, 3600),

  INBOUND_ACTIVITY_TIMEOUT_SECONDS: int(30, 1, 3600),
  INBOUND_RETRY_INITIAL_SECONDS: int(5, 1, 3600),

  OUTBOUND_ALLOWED_HOSTS: list,
  // Hosts besides the providers' official ones that may receive provider secrets (Xero, QuickBooks,
  // Microsoft): `host` or `host:port`, `*.example.net` for subdomains; http only for loopback ones.
  PROVIDER_CUSTOM_HOSTS: list,
  OUTBOUND_TIMEOUT_MS: int(15000, 100, 120000),

  // Hostile input: the input boundary, abuse limits per source address, rejected-request retention.
  INPUT_MAX_JSON_DEPTH: int(32, 2, 1000),
  INPUT_MAX_ARRAY_LENGTH: int(10000, 1, 1_000_000),
  HTTP_REQUEST_TIMEOUT_MS: int(30000, 1000, 600000),
  REJECTED_BODY_MAX_BYTES: int(4096, 0, 1024 * 1024),
  REJECTED_REQUESTS_PER_ADDRESS: int(120, 0),
  REJECTED_REQUESTS_WINDOW_SECONDS: int(60, 1, 86400),
  REJECTED_REQUESTS_RETENTION_HOURS: int(168, 1, 24 * 3650),
  REJECTED_REQUESTS_MAX_ROWS: int(100000, 100),
  AUTH_FAILURES_PER_ADDRESS: int(60, 0),
  TOKEN_REQUESTS_PER_ADDRESS: int(120, 0),
  AUTH_LIMIT_WINDOW_SECONDS: int(60, 1, 86400),
  METRICS_TOKEN: z.string().min(16).optional(),
  METRICS_CACHE_SECONDS: int(5, 0, 300),
  TRUST_PROXY: trustProxy,

  // Outgoing webhooks. The schedule lists the waits between attempts; the first attempt is immediate.
  DELIVERY_RETRY_SCHEDULE: durationList('5s,5m,30m,2h,5h,10h,14h,20h,24h'),
  DELIVERY_RETRY_AFTER_MAX_SECONDS: int(86400, 1, 7 * 86400),
  DELIVERY_LOG_MAX_BYTES: int(64 * 1024, 256, 16 * 1024 * 1024),
  WEBHOOK_SECRET_GRACE_SECONDS: int(86400, 0, 30 * 86400),
  LANE_IDLE_SECONDS: int(300, 1, 86400),
  LANE_MAX_ROUNDS_PER_RUN: int(1000, 1, 100000),

  // Incoming webhooks from Xero / QuickBooks: provider API access and the delayed (batched) method.
  PROVIDER_TOKEN_REFRESH_SKEW_SECONDS: int(120, 0, 3000),
  PROVIDER_TOKEN_LEASE_SECONDS: int(30, 5, 600),
  PROVIDER_RATE_INLINE_WAIT_MS: int(2000, 0, 60000),
  PROVIDER_RATE_WINDOW_MARGIN_MS: int(1000, 0, 60000),
  PROVIDER_RESPONSE_MAX_BYTES: int(16 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  INBOUND_BATCH_WAIT_SECONDS: int(5, 0, 3600),
  INBOUND_BATCH_MAX_ITEMS: int(1000, 1, 20000),
  INBOUND_BATCH_IDLE_SECONDS: int(300, 1, 86400),
  INBOUND_BATCH_MAX_FLUSHES_PER_RUN: int(200, 1, 100000),

  // Microsoft 365 mailboxes: Graph subscriptions, scans and email-to-ticket processing.
  MAILBOX_SUBSCRIPTION_MINUTES: z.coerce.number().positive().max(100_000).default(10070),
  MAILBOX_RENEW_BEFORE: duration('2d'),
  MAILBOX_RETRY_DELAY: duration('1m'),
  MAILBOX_SWEEP_INTERVAL: duration('15m'),
  MAILBOX_MAX_CYCLES_PER_RUN: int(500, 1, 100000),
  MAILBOX_SCAN_INTERVAL_SECONDS: int(240, 1, 86400),
  MAILBOX_SCAN_MIN_INTERVAL_SECONDS: int(60, 1, 86400),
  MAILBOX_GRAPH_CONCURRENCY: int(4, 1, 100),
  MAILBOX_ERROR_NOTIFY_COOLDOWN: duration('1h'),
  MAIL_PROCESS_ATTEMPTS: int(3, 1, 20),
  MAIL_RETRY_INITIAL_SECONDS: int(10, 1, 3600),
  MAIL_SCHEDULER_RETRIES: int(3, 0, 100),
  MAIL_SCHEDULER_RETRY_BASE: duration('30m'),

  // Recovery: crash tests only. The worker SIGKILLs itself right after something commits, before
  // the record of it: `true` after an incoming-webhook attempt commits (Temporal never hears of
  // it); `forward` after a forward's receiver answered (the answer is never recorded).
  TEST_CRASH_AFTER_COMMIT: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'forward'])
    .optional()
    .transform((v): CrashPoint | false => {
      if (v === 'forward') return 'forward';
      return v === 'true' || v === '1' || v === 'yes' ? 'attempt' : false;
    }),
  // Email attachments: fetched from Graph and stored in PostgreSQL up to these sizes.
  MAIL_ATTACHMENT_MAX_BYTES: int(10 * 1024 * 1024, 0, 150 * 1024 * 1024),
  MAIL_ATTACHMENTS_MAX_BYTES_PER_EMAIL: int(25 * 1024 * 1024, 0, 1024 * 1024 * 1024),
  REPLY_ATTACHMENTS_MAX_BYTES: int(3 * 1024 * 1024, 0, 3 * 1024 * 1024),

  // Retention: how long each log is kept (0d keeps it forever), and how gently it is pruned.
  RETENTION_ATTEMPT_BODIES: duration('30d'),
  RETENTION_DELIVERIES: duration('90d'),
  RETENTION_EVENTS: duration('90d'),
  RETENTION_INBOUND_REQUESTS: duration('90d'),
  RETENTION_INCOMING_WEBHOOKS: duration('90d'),
  RETENTION_MAIL_LOG: duration('90d'),
  // Exactly-once records must outlive every workflow that may re-run their activity: a day at least.
  RETENTION_ACTIVITY_EFFECTS: duration('7d').refine((ms) => ms === 0 || ms >= 86_400_000, {
    message: 'must be 0d (keep forever) or at least 1d: a shorter one could let a re-run repeat a forward',
  }),
  RETENTION_INTERVAL: duration('1d'),
  RETENTION_BATCH_SIZE: int(1000, 1, 100_000),
  RETENTION_BATCH_PAUSE: duration('100ms'),
});

/** Every setting's name, for docs and checks (docs/configuration.md, .env.example, docker-compose.yml). */
export const CONFIG_KEYS = Object.keys(schema.shape);

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once; throws a ConfigError listing every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (c.TEMPORAL_TLS_CERT_PATH && !c.TEMPORAL_TLS_KEY_PATH) {
    throw new ConfigError('Invalid configuration:\n  TEMPORAL_TLS_KEY_PATH: required with TEMPORAL_TLS_CERT_PATH');
  }
  const dataDir = path.resolve(c.SWITCHYARD_DATA_DIR);
  return {
    ...c,
    // The embedded dev server's UI moves with TEMPORAL_UI_PORT; links and the banner follow it.
    TEMPORAL_UI_URL: c.TEMPORAL_UI_URL ?? `http://localhost:${c.EMBEDDED_TEMPORAL ? c.TEMPORAL_UI_PORT : 8233}`,
    dataDir,
    publicBaseUrl: c.PUBLIC_BASE_URL ?? `http://localhost:${c.HTTP_PORT}`,
  };
}
