import { admit, ConcurrencyGate, KeyedState, SlidingWindowCounter } from '../rate-limiter';
import type { Admission } from '../rate-limiter';
import { aadError, graphError } from './replies';
import type { AadErrorContext, HttpReply } from './replies';

/** Outlook's limits are per app per mailbox: a request budget per window and a concurrency cap. */
export interface ThrottleOptions {
  perTenMinutes: number;
  concurrentPerMailbox: number;
  /** Length of the rate window; ten minutes in Graph, shorter in tests and benchmarks. */
  windowMs: number;
}

/** Why a request was refused: Outlook's MailboxConcurrency cap or its request budget per window. */
export type ThrottleLimit = 'rate' | 'concurrency';

interface MailboxLimits {
  window: SlidingWindowCounter;
  gate: ConcurrencyGate;
}

/** Outlook's per app per mailbox limits, keyed by `appId|mailboxId`, built on the emulators' shared limiter. */
export class MailboxThrottle {
  private readonly limits: KeyedState<MailboxLimits>;

  constructor(options: ThrottleOptions) {
    this.limits = new KeyedState(() => ({
      window: new SlidingWindowCounter(options.perTenMinutes, options.windowMs),
      gate: new ConcurrencyGate(options.concurrentPerMailbox),
    }));
  }

  /** Admits a request (hold `release` until it is answered) or says which limit it hit and for how long. */
  acquire(key: string): Admission<ThrottleLimit> {
    const { window, gate } = this.limits.get(key);
    return admit<ThrottleLimit>([{ problem: 'rate', counter: window }], { problem: 'concurrency', gate }, Date.now());
  }
}

/** Options for `failNext`: which requests to hit and how the injected failure looks. */
export interface FailNextOptions {
  retryAfter?: number;
  /** Graph API requests (default) or the token endpoint. */
  target?: 'graph' | 'token';
  /** Only requests whose path contains this string (or matches this pattern). */
  match?: string | RegExp;
  method?: string;
  code?: string;
  message?: string;
}

interface Fault {
  remaining: number;
  status: number;
  options: FailNextOptions;
}

const GRAPH_DEFAULTS: Record<number, [string, string]> = {
  401: ['InvalidAuthenticationToken', 'Access token has expired or is not yet valid.'],
  403: ['ErrorAccessDenied', 'Access is denied. Check credentials and try again.'],
  404: ['ErrorItemNotFound', 'The specified object was not found in the store.'],
  429: ['ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'],
  500: ['InternalServerError', 'An internal server error occurred. The operation failed.'],
  502: ['BadGateway', 'Bad Gateway'],
  503: ['ServiceUnavailable', 'The service is currently unavailable. Please try again later.'],
  504: ['GatewayTimeout', 'The request timed out.'],
};

/** Queue of one-shot failures injected ahead of normal handling. */
export class FaultInjector {
  private readonly faults: Fault[] = [];

  add(count: number, status: number, options: FailNextOptions = {}): void {
    if (count > 0) this.faults.push({ remaining: count, status, options });
  }

  clear(): void {
    this.faults.length = 0;
  }

  /** Takes the first fault matching this request and renders it as a Graph reply. */
  takeGraph(method: string, path: string): HttpReply | null {
    const fault = this.take('graph', method, path);
    if (!fault) return null;
    const [code, message] = GRAPH_DEFAULTS[fault.status] ?? ['BadRequest', 'Injected failure.'];
    return graphError(fault.status, fault.options.code ?? code, fault.options.message ?? message, retryAfter(fault));
  }

  /** Takes the first fault matching a token request and renders it in Entra ID's error shape. */
  takeToken(path: string, context: AadErrorContext): HttpReply | null {
    const fault = this.take('token', 'POST', path);
    if (!fault) return null;
    const reply = aadError(
      fault.status,
      fault.options.code ??
        (fault.status >= 500 || fault.status === 429 ? 'temporarily_unavailable' : 'invalid_request'),
      90033,
      fault.options.message ?? 'A transient error has occurred. Please try again.',
      context,
    );
    return { ...reply, headers: { ...reply.headers, ...retryAfter(fault) } };
  }

  private take(target: 'graph' | 'token', method: string, path: string): Fault | null {
    const index = this.faults.findIndex(
      (fault) =>
        (fault.options.target ?? 'graph') === target &&
        (fault.options.method === undefined || fault.options.method.toUpperCase() === method) &&
        matches(fault.options.match, path),
    );
    const fault = this.faults[index];
    if (!fault) return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }
}

function matches(match: string | RegExp | undefined, path: string): boolean {
  if (match === undefined) return true;
  return typeof match === 'string' ? path.includes(match) : match.test(path);
}

function retryAfter(fault: Fault): Record<string, string> {
  return fault.options.retryAfter === undefined ? {} : { 'Retry-After': String(fault.options.retryAfter) };
}
