import { completeOutboundEffect, lockOutboundEffect, startOutboundEffect } from './effect-ledger';
import { withTransaction, type Db } from '../db/pool';
import { idempotencyKeyFor, outboundKey } from './activity-keys';

/** One outbound call: `send` gets the idempotency key to pass on; `delivered` says whether the receiver took it. */
export interface OutboundCall<T> {
  /** Where it goes (`POST https://…`), for the attempt log. */
  target: string;
  send: (idempotencyKey: string) => Promise<T>;
  delivered: (result: T) => boolean;
}

/**
 * Makes an outbound call at most once per workflow (across runs, executions and attempts),
 * recorded before it is made: a delivered call returns its stored (JSON) result; one whose answer
 * was lost is re-sent with the same key; one the receiver refused is tried again by a later attempt.
 */
export type SendOnce = <T>(step: string, call: OutboundCall<T>) => Promise<T>;

export interface SendOnceDeps {
  db: Db;
  /** The business attempt making the call (the workflow's count, not Temporal's). */
  attempt: number;
  note: (message: string) => void;
  /** Saves the attempt log so far: the record made before the call says so even if the worker dies. */
  checkpoint?: () => Promise<void>;
  /** Test only: runs after the receiver answered, before the answer is recorded (a crash goes here). */
  afterAnswer?: (step: string) => void;
}

type Plan = { stored: unknown } | { resend: 'unknown' | 'refused' | null };

/**
 * Outbound calls made through the effect ledger. Before calling, the call is committed as
 * `started` under a key from the workflow id and activity type; the answer marks it `completed`.
 * A worker that dies in between leaves `started`: the outcome is unknown (the receiver may have
 * acted on it), so the next execution re-sends with the SAME idempotency key, which receivers
 * dedupe by, and the attempt log says so. A new key for the same call is never made.
 */
export function createSendOnce(deps: SendOnceDeps): SendOnce {
  const { db, attempt, note } = deps;
  return async function sendOnce<T>(step: string, call: OutboundCall<T>): Promise<T> {
    const key = outboundKey(step);
    const idempotencyKey = idempotencyKeyFor(key);
    const plan = await withTransaction(db, async (tx): Promise<Plan> => {
      const row = await lockOutboundEffect(tx, key);
      // Delivered, or refused within this same attempt (a re-run of it): the known answer stands.
      if (row?.state === 'completed' && (row.delivered === true || (row.attempt ?? 0) >= attempt)) {
        return { stored: row.result };
      }
      const resend = row === undefined ? null : row.state === 'started' ? 'unknown' : 'refused';
      await startOutboundEffect(tx, key, attempt, resend === 'unknown');
      return { resend };
    });
    if ('stored' in plan) {
      note(`${step}: already answered for an earlier execution (Idempotency-Key ${idempotencyKey}); not sent again`);
      return plan.stored as T;
    }
    if (plan.resend === 'unknown') {
      note(
        `${step}: re-sent after an unknown outcome: an earlier execution sent it but its answer was never recorded; same Idempotency-Key ${idempotencyKey}, so the receiver can drop a duplicate`,
      );
    } else if (plan.resend === 'refused') {
      note(`${step}: refused on an earlier attempt; sent again with the same Idempotency-Key ${idempotencyKey}`);
    }
    note(`${step}: ${call.target} with Idempotency-Key ${idempotencyKey} (recorded before sending)`);
    await deps.checkpoint?.();
    const result = await call.send(idempotencyKey);
    deps.afterAnswer?.(step);
    await completeOutboundEffect(db, key, result, call.delivered(result));
    return result;
  };
}
