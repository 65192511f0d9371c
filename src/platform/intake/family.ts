import type { Client } from '@temporalio/client';
import { TRACEPARENT_KEY, type NewIntakeJob } from './jobs';
import { activeTraceparent } from '../tracing';
import type { Queryable } from '../db/pool';

/** What every typed starter needs to reach Temporal. */
export interface StarterDeps {
  temporal: Client;
  taskQueue: string;
}

/** What the intake starter hands a family: Temporal, and the database to look before it calls. */
export interface IntakeJobDeps extends StarterDeps {
  db: Queryable;
}

/**
 * One workflow family as the intake starter drives it: the jobs queued for one workflow id are
 * handed over together, so a family that signals merges them into one signal. `run` must be
 * idempotent by workflow id: a starter that dies between running a job and deleting it runs
 * it again.
 */
export interface JobFamily<P> {
  kind: string;
  run(deps: IntakeJobDeps, workflowId: string, payloads: P[]): Promise<void>;
}

/**
 * An outbox row for a family: built where the work is stored, run later by the starter. With
 * tracing on, the payload also carries the active span (`TRACEPARENT_KEY`), so the starter's
 * call to Temporal joins the trace of the request that stored the work; the starter takes it
 * out again before the family sees the payload.
 */
export const jobFor = <P>(family: JobFamily<P>, workflowId: string, payload: P): NewIntakeJob => {
  const traceparent = activeTraceparent();
  return {
    kind: family.kind,
    workflowId,
    payload: traceparent ? { ...payload, [TRACEPARENT_KEY]: traceparent } : payload,
  };
};
