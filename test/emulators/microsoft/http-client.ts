import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

export interface OutboundRequest {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export type OutboundResult =
  | { ok: true; status: number; contentType: string; body: string; latencyMs: number }
  | { ok: false; reason: 'timeout' | 'network'; message: string; latencyMs: number };

const MAX_BODY_BYTES = 1024 * 1024;

/** HTTP(S) client for calls the emulator makes (validation, notifications); trusts the public roots plus our CA. */
export class OutboundClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent: https.Agent;
  private readonly pending = new Set<http.ClientRequest>();

  constructor(extraCaPem: string) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: [...rootCertificates, extraCaPem] });
  }

  send(request: OutboundRequest): Promise<OutboundResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = new URL(request.url);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const req = transport.request(url, {
        method: request.method,
        agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        headers: {
          ...request.headers,
          ...(request.body === undefined ? { 'Content-Length': '0' } : {}),
        },
      });
      this.pending.add(req);
      let settled = false;
      const settle = (result: OutboundResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(req);
        resolve(result);
      };
      const timer = setTimeout(() => {
        settle({
          ok: false,
          reason: 'timeout',
          message: `no response within ${request.timeoutMs} ms`,
          latencyMs: elapsed(),
        });
        req.destroy();
      }, request.timeoutMs);
      req.on('error', (error) =>
        settle({ ok: false, reason: 'network', message: error.message, latencyMs: elapsed() }),
      );
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        res.on('error', (error) =>
          settle({ ok: false, reason: 'network', message: error.message, latencyMs: elapsed() }),
        );
        res.on('end', () =>
          settle({
            ok: true,
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
            latencyMs: elapsed(),
          }),
        );
      });
      req.end(request.body);
    });
  }

  /** Aborts in-flight calls and closes kept-alive sockets. */
  destroy(): void {
    for (const req of this.pending) req.destroy();
    this.pending.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
