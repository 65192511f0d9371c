/**
 * How the chaos run judges forwards. A forward whose answer was lost (the worker died between
 * the receiver's answer and its record) is re-sent with the same Idempotency-Key: a receiver
 * dedupes it, so it is counted apart. A true repeat is a forward taken (2xx) under two keys, or
 * taken under one key more often than the ledger recorded re-sends after an unknown outcome
 * (a re-send although the first answer was known).
 */
export interface ForwardRequest {
  /** The incoming webhook forwarded (`X-Switchyard-Webhook-Id`). */
  webhookId: string;
  /** `Idempotency-Key`; empty when the request had none. */
  key: string;
  /** What the receiver answered. */
  status: number | 'hang';
}

export interface ForwardCounts {
  /** Distinct forwards the receiver took. */
  forwards: number;
  repeated: number;
  resentSameKey: number;
}

/** `resends`: per Idempotency-Key, the re-sends after an unknown outcome the ledger recorded. */
export function countForwards(requests: ForwardRequest[], resends: ReadonlyMap<string, number>): ForwardCounts {
  const taken = new Map<string, string[]>();
  for (const r of requests) {
    // Only a 2xx means the receiver acted on it; a refused forward is tried again, legitimately.
    if (r.status === 'hang' || r.status < 200 || r.status >= 300) continue;
    taken.set(r.webhookId, [...(taken.get(r.webhookId) ?? []), r.key]);
  }
  let repeated = 0;
  let resentSameKey = 0;
  for (const keys of taken.values()) {
    const extra = keys.length - 1;
    if (extra === 0) continue;
    const key = keys[0]!;
    if (key === '' || new Set(keys).size > 1 || extra > (resends.get(key) ?? 0)) repeated++;
    else resentSameKey++;
  }
  return { forwards: taken.size, repeated, resentSameKey };
}
