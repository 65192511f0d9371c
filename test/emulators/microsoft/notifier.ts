import { randomUUID } from 'node:crypto';
import type { OutboundClient, OutboundResult } from './http-client';
import { fail, graphError, ok } from './replies';
import type { Outcome } from './replies';
import type { Counters } from './stats';

/** One item of a change notification's `value` array. */
export interface ChangeNotification {
  subscriptionId: string;
  subscriptionExpirationDateTime: string;
  changeType: 'created' | 'updated' | 'deleted';
  resource: string;
  resourceData: Record<string, string>;
  clientState: string | null;
  tenantId: string;
}

/** One item of a lifecycle notification's `value` array. */
export interface LifecycleNotification {
  subscriptionId: string;
  subscriptionExpirationDateTime: string;
  lifecycleEvent: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';
  clientState: string | null;
  tenantId: string;
  organizationId: string;
}

/** A single HTTP attempt the emulator made towards a subscriber, kept for assertions on ack latency. */
export interface NotificationAttempt {
  kind: 'validation' | 'change' | 'lifecycle';
  url: string;
  subscriptionIds: string[];
  itemCount: number;
  attempt: number;
  duplicate: boolean;
  startedAt: string;
  latencyMs: number;
  status: number | null;
  error?: string;
  /** Graph counts answers slower than about 3 s against the endpoint. */
  slow: boolean;
  body: string;
}

export interface NotifierOptions {
  /** How long the first notification waits for others to share its POST. */
  delayMs: number;
  maxBatch: number;
  concurrencyPerUrl: number;
  timeoutMs: number;
  validationTimeoutMs: number;
  /** Total attempts per POST, and the first back-off (doubled each time); Graph's 4-hour schedule scaled down. */
  attempts: number;
  retryBaseDelayMs: number;
}

/** One POST to a subscriber: what to log about it plus how to send it. */
type PostSpec = Pick<
  NotificationAttempt,
  'kind' | 'url' | 'body' | 'subscriptionIds' | 'itemCount' | 'attempt' | 'duplicate'
> & { contentType: string; timeoutMs: number };

interface UrlQueue {
  items: ChangeNotification[];
  timer: NodeJS.Timeout | undefined;
  inFlight: number;
}

const SLOW_MS = 2900;
// Enough for a 1,000-email benchmark; older attempts are dropped so long demos do not grow without bound.
const LOG_LIMIT = 20_000;

/** Batches change notifications per notification URL and delivers them with retries. */
export class Notifier {
  private readonly queues = new Map<string, UrlQueue>();
  private readonly attempts: NotificationAttempt[] = [];
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private idleWaiters: Array<() => void> = [];
  private lifecycleInFlight = 0;
  private stopped = false;
  dropping = false;
  duplicateNext = false;

  constructor(
    private readonly client: OutboundClient,
    private readonly options: NotifierOptions,
    private readonly counters: Counters,
  ) {}

  log(): NotificationAttempt[] {
    return [...this.attempts];
  }

  enqueue(url: string, item: ChangeNotification): void {
    if (this.stopped || this.dropping) return;
    const queue = this.queues.get(url) ?? { items: [], timer: undefined, inFlight: 0 };
    this.queues.set(url, queue);
    queue.items.push(item);
    if (!queue.timer && queue.inFlight < this.options.concurrencyPerUrl) {
      queue.timer = setTimeout(() => this.flush(url), this.options.delayMs);
    }
  }

  /** The validation handshake: POST `?validationToken=` and expect the decoded token back as text/plain 200. */
  async validate(url: string, subscriptionId: string): Promise<Outcome<void>> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    // Percent-encoding (not `+` for spaces) is what Graph sends; receivers must URL-decode it.
    const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
    const result = await this.post({
      kind: 'validation',
      url: target,
      body: '',
      subscriptionIds: [subscriptionId],
      itemCount: 0,
      attempt: 1,
      duplicate: false,
      contentType: 'text/plain; charset=utf-8',
      timeoutMs: this.options.validationTimeoutMs,
    });
    if (!result.ok && result.reason === 'timeout') {
      return fail(graphError(400, 'InvalidRequest', 'Subscription validation request timed out.'));
    }
    if (!result.ok || result.status !== 200) {
      return fail(
        graphError(
          400,
          'ValidationError',
          'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
        ),
      );
    }
    if (!result.contentType.toLowerCase().startsWith('text/plain') || result.body !== token) {
      return fail(
        graphError(
          400,
          'ValidationError',
          'Subscription validation request failed. Response must exactly match validationToken query parameter.',
        ),
      );
    }
    return ok(undefined);
  }

  /** Posts a lifecycle notification now (they are not batched), retrying like change notifications. */
  async sendLifecycle(url: string, item: LifecycleNotification): Promise<void> {
    this.lifecycleInFlight += 1;
    try {
      await this.deliver('lifecycle', url, [item], [item.subscriptionId], false);
    } finally {
      this.lifecycleInFlight -= 1;
      this.notifyIdle();
    }
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const queue of this.queues.values()) clearTimeout(queue.timer);
    this.queues.clear();
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
    this.notifyIdle();
  }

  private flush(url: string): void {
    const queue = this.queues.get(url);
    if (!queue) return;
    queue.timer = undefined;
    while (!this.stopped && queue.items.length > 0 && queue.inFlight < this.options.concurrencyPerUrl) {
      const batch = queue.items.splice(0, this.options.maxBatch);
      const duplicate = this.duplicateNext;
      this.duplicateNext = false;
      queue.inFlight += 1;
      const ids = [...new Set(batch.map((item) => item.subscriptionId))];
      void this.deliver('change', url, batch, ids, false)
        .then(() => (duplicate ? this.deliver('change', url, batch, ids, true) : undefined))
        .finally(() => {
          queue.inFlight -= 1;
          // Items that arrived while every slot was busy have waited long enough: send them straight away.
          if (queue.items.length > 0 && !queue.timer) queue.timer = setTimeout(() => this.flush(url), 0);
          this.notifyIdle();
        });
    }
  }

  private async deliver(
    kind: 'change' | 'lifecycle',
    url: string,
    items: ChangeNotification[] | LifecycleNotification[],
    subscriptionIds: string[],
    duplicate: boolean,
  ): Promise<void> {
    const body = JSON.stringify({ value: items });
    for (let attempt = 1; attempt <= this.options.attempts && !this.stopped; attempt += 1) {
      const result = await this.post({
        kind,
        url,
        body,
        subscriptionIds,
        itemCount: items.length,
        attempt,
        duplicate,
        contentType: 'application/json; charset=utf-8',
        timeoutMs: this.options.timeoutMs,
      });
      if (result.ok && result.status >= 200 && result.status < 300) return;
      this.counters.notificationFailures += 1;
      if (attempt < this.options.attempts) await this.sleep(this.options.retryBaseDelayMs * 2 ** (attempt - 1));
    }
  }

  private async post(spec: PostSpec): Promise<OutboundResult> {
    const { contentType, timeoutMs, ...logged } = spec;
    const startedAt = new Date().toISOString();
    this.counters.notificationPosts += 1;
    const result = await this.client.send({
      url: spec.url,
      method: 'POST',
      headers: { 'Content-Type': contentType, 'client-request-id': randomUUID() },
      body: spec.body,
      timeoutMs,
    });
    this.attempts.push({
      ...logged,
      startedAt,
      latencyMs: result.latencyMs,
      status: result.ok ? result.status : null,
      ...(result.ok ? {} : { error: `${result.reason}: ${result.message}` }),
      slow: result.latencyMs > SLOW_MS,
    });
    if (this.attempts.length > LOG_LIMIT) this.attempts.splice(0, this.attempts.length - LOG_LIMIT);
    return result;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  private isIdle(): boolean {
    if (this.lifecycleInFlight > 0) return false;
    for (const queue of this.queues.values()) if (queue.items.length > 0 || queue.inFlight > 0) return false;
    return true;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
