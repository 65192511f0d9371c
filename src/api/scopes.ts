import type { RequestHandler } from 'express';
import type { ApiClientRow } from '../platform/security/api-clients';
import { HttpError } from './errors';
import { scopesAllowed, type RouteDoc } from './openapi';

/**
 * Enforces each admin route's declared scope (src/api/openapi-routes.ts) after authentication.
 * The declaration is the route table the OpenAPI document is built from, so what the document
 * says is what is enforced; a path no route declares is admin-only.
 */

interface CompiledRoute {
  doc: RouteDoc;
  pattern: RegExp;
  params: string[];
  /** Literal segments: `/incoming-webhooks/summary` wins over `/incoming-webhooks/:id`. */
  literals: number;
}

function compile(doc: RouteDoc): CompiledRoute {
  const segments = doc.path.split('/').filter(Boolean);
  const params: string[] = [];
  const source = segments
    .map((seg) => {
      if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(seg.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return {
    doc,
    pattern: new RegExp(`^/${source}/?$`),
    params,
    literals: segments.filter((s) => !s.startsWith(':')).length,
  };
}

/** The declared route a request falls under, with its path parameters. */
export function matchRoute(
  routes: readonly RouteDoc[],
  method: string,
  path: string,
): { doc: RouteDoc; params: Record<string, string> } | undefined {
  let best: { route: CompiledRoute; match: RegExpExecArray } | undefined;
  for (const route of routes.filter((r) => r.method === method.toLowerCase()).map(compile)) {
    const match = route.pattern.exec(path);
    if (match && (!best || route.literals > best.route.literals)) best = { route, match };
  }
  if (!best) return undefined;
  const params = Object.fromEntries(best.route.params.map((p, i) => [p, best.match[i + 1] ?? '']));
  return { doc: best.route.doc, params };
}

/** Whether a credential may call a route (its declaration and, for `integration`, the path's id). */
export function credentialAllows(
  client: Pick<ApiClientRow, 'scope' | 'integration_id'>,
  doc: Pick<RouteDoc, 'scope' | 'method'>,
  params: Record<string, string>,
): boolean {
  if (!scopesAllowed(doc.scope, doc.method).includes(client.scope)) return false;
  if (client.scope !== 'integration') return true;
  return client.integration_id !== null && params['id']?.toLowerCase() === client.integration_id.toLowerCase();
}

/** 403 unless the authenticated credential's scope covers the route. */
export function requireScope(routes: () => readonly RouteDoc[]): RequestHandler {
  return (req, _res, next) => {
    const client = req.apiClient;
    if (!client || client.scope === 'admin') return next();
    const found = matchRoute(routes(), req.method === 'HEAD' ? 'GET' : req.method, req.path);
    if (found && credentialAllows(client, found.doc, found.params)) return next();
    const needs = found ? scopesAllowed(found.doc.scope, found.doc.method).join(' or ') : 'admin';
    next(
      new HttpError(
        403,
        'insufficient_scope',
        `This credential's scope (${client.scope}) does not allow ${req.method} ${req.path} (needs ${needs}${
          found?.doc.scope === 'integration' && client.scope === 'integration' ? ' for this integration' : ''
        })`,
      ),
    );
  };
}
