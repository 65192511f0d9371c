import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';

/**
 * Exactly-once effects under re-execution. Temporal runs an activity at least once: a worker
 * that dies after the work commits but before its completion reaches the server gets the same
 * activity run again. Keys derived from the workflow run and activity id let that re-run find
 * what the first execution finished, and return it instead of repeating a forward or an event.
 */
export function activityKey(step?: string): string {
  const info = Context.current().info;
  const run = info.workflowExecution;
  const base = `${run?.workflowId ?? '-'}/${run?.runId ?? '-'}/${info.activityId}`;
  return step ? `${base}#${step}` : base;
}

/**
 * The ledger key of an outbound call (a forward): the workflow and the activity type, never the
 * run, the execution or the business attempt, so every try of the same call shares it.
 */
export function outboundKey(step: string): string {
  const info = Context.current().info;
  return `outbound:${info.workflowExecution?.workflowId ?? '-'}/${info.activityType}#${step}`;
}

/**
 * What the receiver sees as `Idempotency-Key`: a digest of the ledger key, so it is header-safe
 * and of bounded length whatever the workflow id holds (a provider's delivery key).
 */
export function idempotencyKeyFor(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/** This execution's number for the current activity (1 for the first run, 2+ for re-runs). */
export function executionNumber(): number {
  return Context.current().info.attempt;
}

/**
 * PostgreSQL's data-exception class (22xxx: 22P05 unsupported Unicode escape, 22021 invalid byte
 * sequence, 22P02 invalid text representation, ...) and unparseable JSON: retrying cannot help.
 */
export function isDataError(err: unknown): boolean {
  if (err instanceof SyntaxError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `${message} (${code})` : message;
}
