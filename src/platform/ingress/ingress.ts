import { insertIntakeJobs, recordIntake, type NewIntakeJob } from '../intake/jobs';
import { insertInboundRequest, type InboundRequestRow } from './inbound-requests';
import { isDatabaseUnavailable, withTransaction, type Db, type Queryable } from '../db/pool';
import type { Logger } from '../logger';
import { errorBody } from '../http/error-envelope';
import { webhooksReceived } from '../observability/metrics';
import { DEFAULT_ABUSE_LIMITS, loggableBody, rejectedRequestDecision, type AbuseLimits } from '../http/abuse-limits';
import { decodeJsonStrict, type Decoded, type InputLimits } from '../http/input-boundary';
import type { BacklogGate } from '../intake/backlog';
import { inSpan } from '../tracing';

/** A request to an ingress endpoint, as intake sees it: no Express types past the route. */
export interface IngressRequest {
  method: string;
  /** The path with its query string, as logged. */
  path: string;
  params: Record<string, string | undefined>;
  /** Lower-cased header names; credentials already left out by the route. */
  headers: Record<string, string>;
  raw: Buffer;
  /** `raw` as the input boundary already decoded and checked it, when it was JSON. */
  decoded?: { value: unknown } | undefined;
  /** What the log keeps instead of `raw`, when a secret had to be taken out (Graph's clientState). */
  logged?: Buffer;
  /** Bytes announced when none could be read (an oversized body). */
  declaredBytes: number;
  remoteAddr: string | null;
  /** performance.now() when the request arrived. */
  startedAt: number;
}

/** The request's JSON body: as the input boundary already decoded it, else decoded strictly here. */
export function decodeIngressJson(req: IngressRequest, limits: InputLimits): Decoded<unknown> {
  return req.decoded ? { ok: true, value: req.decoded.value } : decodeJsonStrict(req.raw, limits);
}

/** The answer a route sends, and what the inbound-request log keeps of it. */
export interface IngressReply {
  status: number;
  /** JSON body; none for a bare answer (Xero). */
  body?: unknown;
  /** Sent as text/plain instead of JSON (Graph's validation handshake). */
  text?: string;
  headers?: Record<string, string>;
  outcome: InboundRequestRow['outcome'];
  integrationId: string | null;
  incomingWebhookId?: string | null;
  /** The mailbox a Graph notification was for (the inbound request log filters by it). */
  mailboxId?: string | null;
  /** What Switchyard made of the request when the answer does not say it. */
  note?: string;
}

export interface IntakeDeps {
  db: Db;
  logger: Logger;
  /** What anonymous refused requests may cost: truncated bodies, a limit per source address. */
  abuse?: AbuseLimits;
  backlog: BacklogGate;
  /** Right after a commit: wakes this process's starter, and every other process's by NOTIFY. */
  wake: () => void;
  retryAfterSeconds: number;
}

/** Work staged inside the intake transaction: the answer to give and the workflows to start. */
export interface Staged {
  reply: IngressReply;
  jobs: NewIntakeJob[];
}

function logEntry(provider: string, req: IngressRequest, reply: IngressReply, rejectedBodyMax: number) {
  return {
    integration_id: reply.integrationId,
    provider,
    method: req.method,
    path: req.path,
    headers: req.headers,
    body: loggableBody(req.logged ?? req.raw, reply.outcome === 'rejected', rejectedBodyMax),
    body_bytes: req.raw.length || req.declaredBytes,
    remote_addr: req.remoteAddr,
    duration_ms: Math.round(performance.now() - req.startedAt),
    response_status: reply.status,
    response_body: reply.body !== undefined ? JSON.stringify(reply.body) : reply.text !== undefined ? reply.text : null,
    outcome: reply.outcome,
    incoming_webhook_id: reply.incomingWebhookId ?? null,
    mailbox_id: reply.mailboxId ?? null,
    note: reply.note ?? null,
  };
}

/** 503 with Retry-After, for providers that retry; nothing was written. */
export function unavailable(deps: Pick<IntakeDeps, 'retryAfterSeconds'>, code: string, message: string): IngressReply {
  return {
    status: 503,
    body: errorBody(code, message),
    headers: { 'retry-after': String(deps.retryAfterSeconds) },
    outcome: 'rejected',
    integrationId: null,
  };
}

/**
 * Records an answer that starts no work (a refusal, a handshake) in the inbound-request log. A
 * failure to log never changes the answer.
 */
export async function logOnly(
  deps: Pick<IntakeDeps, 'db' | 'logger' | 'abuse'>,
  provider: string,
  req: IngressRequest,
  reply: IngressReply,
): Promise<IngressReply> {
  const abuse = deps.abuse ?? DEFAULT_ABUSE_LIMITS;
  if (reply.outcome === 'rejected') {
    // Past its limit of refused requests, an address is answered 429 and nothing is stored.
    const decision = await rejectedRequestDecision(deps, req.remoteAddr, abuse);
    if (!decision.allowed) {
      webhooksReceived.inc({ provider, outcome: 'rate_limited' });
      const message = `Too many rejected requests from this address; retry in ${decision.retryAfterSeconds} s`;
      return {
        status: 429,
        body: errorBody('rate_limited', message),
        headers: { 'retry-after': String(decision.retryAfterSeconds) },
        outcome: 'rejected',
        integrationId: reply.integrationId,
      };
    }
  }
  webhooksReceived.inc({ provider, outcome: reply.outcome });
  try {
    await insertInboundRequest(deps.db, logEntry(provider, req, reply, abuse.rejectedBodyMaxBytes));
  } catch (err) {
    deps.logger.error(
      { err: (err as Error).message, provider, status: reply.status },
      'could not record inbound request',
    );
  }
  return reply;
}

/** A committed intake write: the answer given, and whether work was queued for the starter. */
type Committed = { reply: IngressReply; queued: boolean };

/**
 * What every intake write shares: past the outbox's ceiling, 503 + Retry-After (logged, nothing
 * else written); PostgreSQL unreachable, 503 + Retry-After and nothing written; otherwise the
 * answer `write` committed, counted, and the starter woken when work was queued.
 */
async function guardedIntake(
  deps: IntakeDeps,
  provider: string,
  req: IngressRequest,
  write: () => Promise<Committed>,
): Promise<IngressReply> {
  if (deps.backlog.full()) {
    const reply = unavailable(deps, 'backlog_full', 'Too much work is waiting to be started; try again later');
    return logOnly(deps, provider, req, reply);
  }
  try {
    const { reply, queued } = await inSpan('intake.commit', { attributes: { 'switchyard.provider': provider } }, write);
    webhooksReceived.inc({ provider, outcome: reply.outcome });
    if (queued) deps.wake();
    return reply;
  } catch (err) {
    if (!isDatabaseUnavailable(err)) throw err;
    deps.logger.error({ err: (err as Error).message, provider, path: req.path }, 'PostgreSQL unavailable at intake');
    return unavailable(deps, 'storage_unavailable', 'Storage is unavailable; nothing was recorded. Try again later');
  }
}

const rejectedBodyMax = (deps: IntakeDeps) => (deps.abuse ?? DEFAULT_ABUSE_LIMITS).rejectedBodyMaxBytes;

function stagedTransaction(
  deps: IntakeDeps,
  provider: string,
  req: IngressRequest,
  stage: (tx: Queryable) => Promise<Staged>,
) {
  return withTransaction(deps.db, async (tx) => {
    const s = await stage(tx);
    await recordIntake(tx, s.jobs, logEntry(provider, req, s.reply, rejectedBodyMax(deps)));
    return { reply: s.reply, queued: s.jobs.length > 0 };
  });
}

/**
 * The intake transaction: the work rows `stage` writes, the outbox rows for the workflows that
 * work needs, and the request's log entry commit together, and the answer goes out right after.
 * Temporal is not called here: the starter hands the work over. With PostgreSQL unreachable,
 * or the outbox past its ceiling, the answer is 503 + Retry-After and nothing is written.
 */
export async function commitIntake(
  deps: IntakeDeps,
  provider: string,
  req: IngressRequest,
  stage: (tx: Queryable) => Promise<Staged>,
): Promise<IngressReply> {
  return guardedIntake(deps, provider, req, () => stagedTransaction(deps, provider, req, stage));
}

/**
 * The same commitment in one statement, for a source whose whole write fits one (the hot
 * paths): `write` gets the log entry of the answer it expects to give, and returns the answer
 * it gave, filled into the log by the statement itself.
 */
export async function commitIntakeStatement(
  deps: IntakeDeps,
  provider: string,
  req: IngressRequest,
  expected: IngressReply,
  write: (db: Queryable, log: ReturnType<typeof logEntry>) => Promise<Committed>,
): Promise<IngressReply> {
  return guardedIntake(deps, provider, req, () =>
    write(deps.db, logEntry(provider, req, expected, rejectedBodyMax(deps))),
  );
}

/**
 * As `commitIntakeStatement`, for a statement that may not be able to decide (it sees a
 * conflict but not the row behind it): `write` then returns undefined, and `stage` runs as the
 * ordinary transaction.
 */
export async function commitIntakeInOneStatement(
  deps: IntakeDeps,
  provider: string,
  req: IngressRequest,
  expected: IngressReply,
  write: (db: Queryable, log: ReturnType<typeof logEntry>) => Promise<Committed | undefined>,
  stage: (tx: Queryable) => Promise<Staged>,
): Promise<IngressReply> {
  return commitIntakeStatement(
    deps,
    provider,
    req,
    expected,
    async (db, log) => (await write(db, log)) ?? stagedTransaction(deps, provider, req, stage),
  );
}

/**
 * Work from the admin API or an activity (manual retry, resend, reply, event): the rows `stage`
 * writes and the outbox rows for their workflows commit together; starters are woken after.
 */
export async function commitWork<T>(
  deps: Pick<IntakeDeps, 'db' | 'wake'>,
  stage: (tx: Queryable) => Promise<{ result: T; jobs: NewIntakeJob[] }>,
): Promise<T> {
  const staged = await inSpan('intake.commit', {}, () =>
    withTransaction(deps.db, async (tx) => {
      const s = await stage(tx);
      await insertIntakeJobs(tx, s.jobs, 'by-caller');
      return s;
    }),
  );
  if (staged.jobs.length > 0) deps.wake();
  return staged.result;
}
