import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { LookupFunction } from 'node:net';

import { pinnedHostProblem, type PinnedHosts } from './pinned-hosts';
import { injectTraceHeaders, inSpan, SpanKind, SpanStatusCode } from '../tracing';

/** Why an outgoing request was refused before any byte was sent. */
export class BlockedDestinationError extends Error {
  override name = 'BlockedDestinationError';
}

/** A provider URL outside the provider's official hosts and the operator's custom hosts. */
export class UnpinnedHostError extends BlockedDestinationError {
  override name = 'UnpinnedHostError';
}

const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const BLOCKED_V6: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['fd00:ec2::254', 128],
  // NAT64 (64:ff9b::/96), IPv4-compatible (::/96) and 6to4 (2002::/16) embed an IPv4 address:
  // each can lead back to a private or loopback IPv4 target.
  ['64:ff9b::', 96],
  ['::', 96],
  ['2002::', 16],
];

const blockList = new net.BlockList();
for (const [a, p] of BLOCKED_V4) blockList.addSubnet(a, p, 'ipv4');
for (const [a, p] of BLOCKED_V6) blockList.addSubnet(a, p, 'ipv6');

/** True when the address is loopback, private, link-local, multicast or a cloud metadata address. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
  const mapped = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  if (mapped) return blockList.check(mapped, 'ipv4');
  return blockList.check(address, family);
}

export interface DestinationPolicy {
  /** Hosts (names or literal IPs) that may resolve to private addresses: for development and tests. */
  allowedHosts: readonly string[];
  /** Provider calls carry stored secrets: only to these hosts (absent: any public host). */
  pinned?: PinnedHosts | undefined;
}

/**
 * A DNS lookup that refuses private targets. It runs at connect time, so the address
 * checked is the address connected to — a rebinding DNS answer cannot slip through.
 */
function guardedLookup(hostname: string, policy: DestinationPolicy): LookupFunction {
  return (host, options, callback) => {
    dns.lookup(host, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const allowed = policy.allowedHosts.includes(hostname);
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !allowed) {
        return callback(
          new BlockedDestinationError(`${hostname} resolves to ${bad.address}, a private or reserved address`),
          '',
          0,
        );
      }
      if ((options as dns.LookupOptions).all) return callback(null, list as never);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}

export interface SafeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The same body as bytes, for callers that pass it on unchanged (binary Graph content). */
  bodyBytes: Buffer;
  bodyTruncated: boolean;
  durationMs: number;
}

export interface SafeRequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  maxResponseBytes?: number;
  policy: DestinationPolicy;
  /**
   * Reuse connections to the same host and port (a keep-alive agent per policy): for callers
   * that send to one destination often, like a webhook's lane.
   */
  keepAlive?: boolean;
}

/** An idle kept-alive connection closes after this long (sooner when the server's Keep-Alive hint says so). */
const IDLE_SOCKET_MS = 4_000;

const keepAliveAgents = new WeakMap<DestinationPolicy, { http: http.Agent; https: https.Agent }>();

/**
 * The keep-alive agents for one policy. Pooling by host and port is safe behind the guard: a
 * pooled connection was opened through `guardedLookup` for that same host name under this same
 * policy, so it leads to an address that was checked when it was connected.
 */
function keepAliveAgent(policy: DestinationPolicy, secure: boolean): http.Agent {
  let agents = keepAliveAgents.get(policy);
  if (!agents) {
    const o = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
    agents = { http: new http.Agent(o), https: new https.Agent(o) };
    keepAliveAgents.set(policy, agents);
  }
  return secure ? agents.https : agents.http;
}

/** Checks a URL's scheme and literal host before any lookup. */
export function assertSafeUrl(raw: string, policy: DestinationPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BlockedDestinationError(`not a valid URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BlockedDestinationError(`only http and https URLs are allowed, not ${url.protocol}`);
  }
  if (url.username || url.password) throw new BlockedDestinationError('URLs must not carry credentials');
  const unpinned = policy.pinned ? pinnedHostProblem(url, policy.pinned) : undefined;
  if (unpinned) throw new UnpinnedHostError(unpinned);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) && isPrivateAddress(host) && !policy.allowedHosts.includes(host)) {
    throw new BlockedDestinationError(`${host} is a private or reserved address`);
  }
  if (host === 'localhost' && !policy.allowedHosts.includes(host)) {
    throw new BlockedDestinationError('localhost is not an allowed destination');
  }
  return url;
}

/** A guarded response whose body has not been read: the caller consumes `body` or destroys it. */
export interface SafeStreamResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as it arrives; the request's deadline still covers reading it. */
  body: http.IncomingMessage;
  started: number;
}

/**
 * One HTTP request with an SSRF guard, a hard timeout and no redirect following (a 3xx is
 * returned to the caller as it is), answered as soon as the headers arrive: the body is a
 * stream, so a large download is counted as it comes and never held whole.
 */
export async function safeRequestStream(options: SafeRequestOptions): Promise<SafeStreamResponse> {
  try {
    return await streamOnce(options);
  } catch (err) {
    // A kept-alive connection the server closed as the request went out: nothing was answered
    // on it, so it is sent once more, on a new connection.
    if (!(err instanceof StaleConnectionError)) throw err;
    return streamOnce({ ...options, keepAlive: false });
  }
}

/** A reused keep-alive connection failed before any answer came back on it. */
class StaleConnectionError extends Error {}

function streamOnce(options: SafeRequestOptions): Promise<SafeStreamResponse> {
  const url = assertSafeUrl(options.url, options.policy);
  // A client span per request, and its context in `traceparent` for a receiver that traces too.
  return inSpan(
    `${options.method} ${url.host}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': options.method, 'server.address': url.hostname, 'url.path': url.pathname },
    },
    async (span) => {
      const res = await send(url, { ...options, headers: injectTraceHeaders({ ...options.headers }) });
      span.setAttribute('http.response.status_code', res.status);
      if (res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return res;
    },
  );
}

function send(url: URL, options: SafeRequestOptions): Promise<SafeStreamResponse> {
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const started = performance.now();
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let response: http.IncomingMessage | undefined;
    const timedOut = () => new Error(`request timed out after ${options.timeoutMs} ms`);
    const req = lib.request(
      url,
      {
        method: options.method,
        headers: options.headers,
        lookup: guardedLookup(hostname, options.policy),
        timeout: options.timeoutMs,
        agent: options.keepAlive ? keepAliveAgent(options.policy, lib === https) : false,
      },
      (res) => {
        response = res;
        res.once('close', () => clearTimeout(deadline));
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
        resolve({ status: res.statusCode ?? 0, headers, body: res, started });
      },
    );
    // `timeout` only covers idle sockets; this caps the whole exchange, the body included.
    const deadline = setTimeout(() => {
      const err = timedOut();
      req.destroy(err);
      response?.destroy(err);
    }, options.timeoutMs);
    req.on('timeout', () => req.destroy(timedOut()));
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      const stale = req.reusedSocket && response === undefined && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      reject(stale ? new StaleConnectionError(err.message) : err);
    });
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/**
 * One guarded request (see `safeRequestStream`) with its body read, up to `maxResponseBytes`:
 * the rest is received and dropped, and `bodyTruncated` says so.
 */
export async function safeRequest(options: SafeRequestOptions): Promise<SafeResponse> {
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  const res = await safeRequestStream(options);
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    const room = maxBytes - size;
    if (chunk.length > room) truncated = true;
    if (room <= 0) continue;
    chunks.push(chunk.subarray(0, room));
    size += Math.min(chunk.length, room);
  }
  const bytes = Buffer.concat(chunks);
  return {
    status: res.status,
    headers: res.headers,
    body: bytes.toString('utf8'),
    bodyBytes: bytes,
    bodyTruncated: truncated,
    durationMs: Math.round(performance.now() - res.started),
  };
}
