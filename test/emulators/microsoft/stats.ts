/** Counters a test or benchmark reads through `emulator.stats()`. */
export interface EmulatorStats {
  /** Requests per endpoint, keyed like `GET /users/{id}/messages/{id}` or `POST /{tenant}/oauth2/v2.0/token`. */
  calls: Record<string, number>;
  /** Status codes answered by the Graph and identity endpoints. */
  statuses: Record<string, number>;
  throttled: number;
  injectedFaults: number;
  tokensIssued: number;
  tokenErrors: number;
  notificationPosts: number;
  notificationFailures: number;
}

/** Mutable counters shared by the emulator's modules. */
export class Counters {
  readonly calls = new Map<string, number>();
  readonly statuses = new Map<string, number>();
  throttled = 0;
  injectedFaults = 0;
  tokensIssued = 0;
  tokenErrors = 0;
  notificationPosts = 0;
  notificationFailures = 0;

  call(endpoint: string): void {
    this.calls.set(endpoint, (this.calls.get(endpoint) ?? 0) + 1);
  }

  status(code: number): void {
    const key = String(code);
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }

  reset(): void {
    this.calls.clear();
    this.statuses.clear();
    this.throttled = 0;
    this.injectedFaults = 0;
    this.tokensIssued = 0;
    this.tokenErrors = 0;
    this.notificationPosts = 0;
    this.notificationFailures = 0;
  }

  snapshot(): EmulatorStats {
    return {
      calls: Object.fromEntries(this.calls),
      statuses: Object.fromEntries(this.statuses),
      throttled: this.throttled,
      injectedFaults: this.injectedFaults,
      tokensIssued: this.tokensIssued,
      tokenErrors: this.tokenErrors,
      notificationPosts: this.notificationPosts,
      notificationFailures: this.notificationFailures,
    };
  }
}
