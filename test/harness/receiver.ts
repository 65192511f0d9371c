import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * One answer the receiver gives; `hang` keeps the request open until the sender gives up;
 * `delayMs` answers after that long (a slow subscriber).
 */
export type Scripted =
  { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | { hang: true };

export interface RecordedRequest {
  path: string;
  method: string;
  /** Path with query string, as sent. */
  url: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  /** Parsed JSON body (undefined for an empty or non-JSON body). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary payloads
  receivedAt: number;
  /** For each verification secret of this path, whether `standardwebhooks` accepted the request. */
  verified: boolean[];
  answeredWith: number | 'hang';
}

/**
 * A real local HTTP server standing in for webhook subscribers. Each path is a separate
 * subscriber with its own verification secrets and scripted answers (default 200).
 * Signatures are checked with the `standardwebhooks` package, as a real receiver would;
 * for GET the signed content is the query string.
 */
export class Receiver {
  private readonly recorded: RecordedRequest[] = [];
  private readonly secrets = new Map<string, string[]>();
  private readonly scripts = new Map<string, Scripted[]>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly defaults = new Map<string, Scripted>();
  private readonly open = new Map<string, number>();
  private readonly maxOpen = new Map<string, number>();
  private waiters: Array<() => void> = [];

  private readonly server: Server = createServer((req, res) => this.handle(req, res));

  private constructor() {}

  static async start(host = '127.0.0.1'): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, host, resolve));
    return receiver;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** The secrets this subscriber verifies with (each checked on its own). */
  setSecrets(path: string, secrets: string[]): void {
    this.secrets.set(path, secrets);
  }

  /** Queues answers for the next requests to `path`; after them it answers 200. */
  script(path: string, ...answers: Scripted[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...answers]);
  }

  /** The answer `path` gives once its script is used up (200 unless set); undefined restores 200. */
  setDefault(path: string, answer: Scripted | undefined): void {
    if (answer) this.defaults.set(path, answer);
    else this.defaults.delete(path);
  }

  /** The most requests to `path` that were open at the same time. */
  maxConcurrent(path: string): number {
    return this.maxOpen.get(path) ?? 0;
  }

  requests(path?: string): RecordedRequest[] {
    return this.recorded.filter((r) => path === undefined || r.path === path);
  }

  /** Resolves with the requests to `path` once there are at least `n` of them. */
  async waitFor(path: string, n: number, timeoutMs = 30_000): Promise<RecordedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests(path).length < n) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`receiver: ${this.requests(path).length} of ${n} requests to ${path} after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.requests(path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', this.baseUrl);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const signed = req.method === 'GET' ? url.search.replace(/^\?/, '') : body;
      const verified = (this.secrets.get(url.pathname) ?? []).map((secret) => {
        try {
          new Webhook(secret).verify(signed, headers, { jsonParse: false });
          return true;
        } catch {
          return false;
        }
      });
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const answer = this.scripts.get(url.pathname)?.shift() ??
        this.defaults.get(url.pathname) ?? { status: 200, body: 'ok' };
      const open = (this.open.get(url.pathname) ?? 0) + 1;
      this.open.set(url.pathname, open);
      this.maxOpen.set(url.pathname, Math.max(open, this.maxOpen.get(url.pathname) ?? 0));
      res.on('close', () => this.open.set(url.pathname, (this.open.get(url.pathname) ?? 1) - 1));
      this.recorded.push({
        path: url.pathname,
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
        json,
        receivedAt: Date.now(),
        verified,
        answeredWith: 'hang' in answer ? 'hang' : answer.status,
      });
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
      if ('hang' in answer) {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      const reply = () =>
        res.writeHead(answer.status, answer.headers ?? { 'content-type': 'text/plain' }).end(answer.body ?? '');
      if (answer.delayMs) {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        setTimeout(() => !res.destroyed && reply(), answer.delayMs);
      } else reply();
    });
  }
}
