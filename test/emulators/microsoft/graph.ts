import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { canAccess, accessDenied, parsePrefer, resolveMailbox } from './graph-context';
import type { GraphContext, GraphDeps, GraphRoute } from './graph-context';
import { mailRoutes } from './graph-mail-routes';
import { subscriptionRoutes } from './graph-subscription-routes';
import { graphError, writeReply } from './replies';
import type { HttpReply } from './replies';

const ROUTES: GraphRoute[] = [...subscriptionRoutes, ...mailRoutes];
const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Microsoft Graph v1.0 (mail and subscriptions), mounted at `/v1.0`. */
export function createGraphRouter(deps: GraphDeps): Router {
  const router = express.Router();
  router.use(express.json({ limit: '4mb', type: ['application/json', 'application/*+json'] }));
  router.use((req: Request, res: Response) => dispatch(deps, req, res));
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(deps, req, res, errorReply(error));
  });
  return router;
}

/** Body-parser failures keep Graph's error shape; anything else is an emulator bug surfaced as a 500. */
function errorReply(error: unknown): HttpReply {
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') {
    return graphError(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  }
  if (type === 'entity.too.large') {
    return graphError(413, 'RequestEntityTooLarge', 'The request payload exceeds the 4 MB limit.');
  }
  return graphError(500, 'InternalServerError', error instanceof Error ? error.message : 'Unexpected error.');
}

async function dispatch(deps: GraphDeps, req: Request, res: Response): Promise<void> {
  const segments = splitPath(req.path);
  const match = matchRoute(req.method, segments);
  if (match.kind !== 'found') {
    deps.counters.call(`${req.method} (unmatched)`);
    send(
      deps,
      req,
      res,
      match.kind === 'method'
        ? graphError(405, 'BadRequest', 'Specified HTTP method is not allowed for the request target.')
        : graphError(400, 'BadRequest', `Resource not found for the segment '${segments[0] ?? ''}'.`),
    );
    return;
  }
  const { route, params, mailboxSegment, prefix } = match;
  deps.counters.call(`${req.method} ${displayPattern(route, mailboxSegment)}`);

  const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
  const token = bearer
    ? deps.tokens.verifyAccessToken(bearer)
    : { ok: false as const, message: 'Access token is empty.' };
  if (!token.ok) {
    send(
      deps,
      req,
      res,
      graphError(401, 'InvalidAuthenticationToken', token.message, { 'WWW-Authenticate': wwwAuthenticate() }),
    );
    return;
  }
  const injected = deps.faults.takeGraph(req.method, req.originalUrl);
  if (injected) {
    deps.counters.injectedFaults += 1;
    send(deps, req, res, injected);
    return;
  }
  const ctx: GraphContext = {
    deps,
    req,
    principal: token.principal,
    query: new URL(req.originalUrl, 'https://graph.invalid').searchParams,
    prefer: parsePrefer(req.get('prefer')),
  };
  if (!route.mailbox) {
    send(deps, req, res, await route.handle(ctx, params));
    return;
  }

  const resolved = resolveMailbox(ctx, mailboxSegment ?? '');
  if (!resolved.ok) {
    send(deps, req, res, resolved.reply);
    return;
  }
  const { user, mailbox } = resolved.value;
  if (!canAccess(token.principal, user, route.access)) {
    send(deps, req, res, accessDenied());
    return;
  }
  const slot = deps.throttle.acquire(`${token.principal.appId}|${user.id}`);
  if (!slot.ok) {
    deps.counters.throttled += 1;
    const message =
      slot.problem === 'concurrency'
        ? 'Application is over its MailboxConcurrency limit.'
        : 'Application is over its MailboxRequestRate limit.';
    send(
      deps,
      req,
      res,
      graphError(429, 'ApplicationThrottled', message, { 'Retry-After': String(slot.retryAfterSeconds) }),
    );
    return;
  }
  // Hold the concurrency slot until the response is really gone, including when the client hangs up.
  res.once('close', slot.release);
  if (deps.graphLatencyMs > 0) await sleep(deps.graphLatencyMs, undefined, { ref: false });
  send(deps, req, res, await route.handle({ ...ctx, user, mailbox, prefix: prefix ?? '' }, params));
}

type RouteMatch =
  | {
      kind: 'found';
      route: GraphRoute;
      params: Record<string, string>;
      mailboxSegment: string | undefined;
      prefix: string | undefined;
    }
  | { kind: 'method' | 'none' };

function matchRoute(method: string, segments: string[]): RouteMatch {
  let pathMatched = false;
  for (const route of ROUTES) {
    let rest = segments;
    let mailboxSegment: string | undefined;
    let prefix: string | undefined;
    if (route.mailbox) {
      if (segments[0]?.toLowerCase() === 'me') {
        mailboxSegment = 'me';
        prefix = 'me';
        rest = segments.slice(1);
      } else if (segments[0]?.toLowerCase() === 'users' && segments[1] !== undefined) {
        mailboxSegment = segments[1];
        prefix = `users/${encodeURIComponent(segments[1]).replace(/%40/g, '@')}`;
        rest = segments.slice(2);
      } else {
        continue;
      }
    }
    const params = matchPattern(route.pattern, rest);
    if (!params) continue;
    if (route.method !== method) {
      pathMatched = true;
      continue;
    }
    return { kind: 'found', route, params, mailboxSegment, prefix };
  }
  return { kind: pathMatched ? 'method' : 'none' };
}

function matchPattern(pattern: string, segments: string[]): Record<string, string> | null {
  const parts = pattern === '' ? [] : pattern.split('/');
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index] ?? '';
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part.toLowerCase() !== segment.toLowerCase()) return null;
  }
  return params;
}

/** Splits the path, turning OData key syntax (`mailFolders('inbox')`) into plain segments. */
function splitPath(path: string): string[] {
  const segments: string[] = [];
  for (const raw of path.split('/').filter(Boolean)) {
    const decoded = safeDecode(raw);
    const key = /^([A-Za-z]+)\('(.*)'\)$/.exec(decoded);
    if (key?.[1] !== undefined && key[2] !== undefined) segments.push(key[1], key[2]);
    else segments.push(decoded);
  }
  return segments;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function displayPattern(route: GraphRoute, mailboxSegment: string | undefined): string {
  const pattern = route.pattern.replace(/:[A-Za-z]+/g, '{id}');
  if (!route.mailbox) return `/${pattern}`;
  const base = mailboxSegment === 'me' ? '/me' : '/users/{id}';
  return pattern === '' ? base : `${base}/${pattern}`;
}

function wwwAuthenticate(): string {
  return 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';
}

function send(deps: GraphDeps, req: Request, res: Response, reply: HttpReply): void {
  const requestId = randomUUID();
  const clientRequestId = req.get('client-request-id') ?? requestId;
  deps.counters.status(reply.status);
  res.setHeader('request-id', requestId);
  res.setHeader('client-request-id', clientRequestId);
  res.setHeader('x-ms-ags-diagnostic', JSON.stringify({ ServerInfo: { DataCenter: 'Emulator', Slice: 'E' } }));
  // Every Graph error carries the ids support would ask for.
  const error =
    reply.status >= 400 ? (reply.body as { error?: Record<string, unknown> } | undefined)?.error : undefined;
  const innerError = {
    date: new Date().toISOString().slice(0, 19),
    'request-id': requestId,
    'client-request-id': clientRequestId,
  };
  writeReply(res, error ? { ...reply, body: { error: { ...error, innerError } } } : reply, GRAPH_JSON);
}
