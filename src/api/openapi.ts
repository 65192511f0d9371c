import type { Express } from 'express';
import { z } from 'zod';

/**
 * Who may call a route: `admin` credentials only; `read` also read-only ones (GET routes);
 * `integration` also the credential bound to the integration in the path's `:id` (and read-only
 * ones when it is a GET). Enforced by src/api/scopes.ts from this declaration.
 */
export type RouteScope = 'admin' | 'read' | 'integration';

/** The credential scopes that pass a route's declaration, as the OpenAPI document lists them. */
export function scopesAllowed(scope: RouteScope, method: RouteDoc['method']): string[] {
  if (scope === 'admin') return ['admin'];
  if (scope === 'read') return ['admin', 'read-only'];
  return method === 'get' ? ['admin', 'read-only', 'integration'] : ['admin', 'integration'];
}

/** One documented admin route; schemas are the same zod objects the handlers validate with. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path under /api/v1, e.g. `/webhooks/:id`. */
  path: string;
  scope: RouteScope;
  summary: string;
  tag: string;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Success status and a short description of what comes back. */
  success?: { status: number; description: string; schema?: z.ZodType };
}

const registry: RouteDoc[] = [];

/** Declares a route for the OpenAPI document (call at module level, next to the route's schemas). */
export function documentRoute(doc: RouteDoc): void {
  registry.push(doc);
}

export const documentedRoutes = (): readonly RouteDoc[] => registry;

/**
 * A route outside `/api/v1`: provider ingress, the token endpoint, sign-in callbacks, health.
 * These are not called with the admin bearer token, so each says how it is authenticated.
 */
export interface PublicRouteDoc {
  method: 'get' | 'post';
  /** Express-style path from the server root, e.g. `/hooks/xero/:integrationId`. */
  path: string;
  summary: string;
  description: string;
  tag: string;
  /** How the caller proves itself; documented as the operation's security (none: an empty list). */
  auth: 'none' | 'basic' | 'signature' | 'state';
  request?: { contentType: string; schema: Record<string, unknown> };
  responses: Record<string, string>;
}

const publicRegistry: PublicRouteDoc[] = [];

export function documentPublicRoute(doc: PublicRouteDoc): void {
  publicRegistry.push(doc);
}

export const documentedPublicRoutes = (): readonly PublicRouteDoc[] => publicRegistry;

type Json = Record<string, unknown>;

/**
 * A zod schema as OpenAPI 3.0 JSON Schema. Recursive schemas come with local `definitions`;
 * OpenAPI wants those under components, so they are hoisted there and their $refs rewritten.
 */
function toSchema(schema: z.ZodType, io: 'input' | 'output', components: Json, prefix: string): Json {
  const js = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Json;
  const defs = (js['definitions'] ?? js['$defs']) as Record<string, Json> | undefined;
  delete js['definitions'];
  delete js['$defs'];
  if (!defs) return js;
  const rename = (name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          k === '$ref' && typeof v === 'string'
            ? v.replace(
                /^#\/(definitions|\$defs)\/(.+)$/,
                (_m, _d, name: string) => `#/components/schemas/${rename(name)}`,
              )
            : rewrite(v),
        ]),
      );
    }
    return value;
  };
  for (const [name, def] of Object.entries(defs)) components[rename(name)] = rewrite(def);
  return rewrite(js) as Json;
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

/** The OpenAPI 3.0 document for the admin API, generated from the registered zod schemas. */
export function buildOpenApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Json = { Error: errorSchema };
  for (const r of registry) {
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query: unknown[] = [];
    const opName = `${r.method}${openApiPath(r.path)
      .replace(/[{}]/g, '')
      .replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`;
    if (r.query) {
      const js = toSchema(r.query, 'input', schemas, `${opName}Query`) as {
        properties?: Record<string, unknown>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(js.properties ?? {})) {
        query.push({ name, in: 'query', required: (js.required ?? []).includes(name), schema });
      }
    }
    const success = r.success ?? { status: 200, description: 'OK' };
    const allowed = scopesAllowed(r.scope, r.method);
    const op: Record<string, unknown> = {
      summary: r.summary,
      description: `Credential scopes: ${allowed.join(', ')}.`,
      tags: [r.tag],
      operationId: opName,
      'x-switchyard-scope': r.scope,
      security: [{ bearer: [] }, ...allowed.map((s) => ({ clientCredentials: [s] }))],
      parameters: [...params, ...query],
      responses: {
        [String(success.status)]: {
          description: success.description,
          ...(success.schema
            ? {
                content: {
                  'application/json': { schema: toSchema(success.schema, 'output', schemas, `${opName}Response`) },
                },
              }
            : {}),
        },
        '400': {
          description: 'Invalid request',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        '401': {
          description: 'Missing or invalid credential',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        '403': {
          description: "The credential's scope does not allow this operation",
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        '429': {
          description: 'Rate limited (see Retry-After)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if (r.body) {
      op['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: toSchema(r.body, 'input', schemas, `${opName}Body`) } },
      };
    }
    const key = openApiPath(r.path);
    paths[key] = { ...(paths[key] ?? {}), [r.method]: op };
  }
  for (const r of publicRegistry) {
    const key = openApiPath(r.path);
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const op: Record<string, unknown> = {
      summary: r.summary,
      description: r.description,
      tags: [r.tag],
      operationId: `${r.method}${key.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      parameters: params,
      security: r.auth === 'basic' ? [{ basic: [] }] : [],
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([status, description]) => [status, { description }]),
      ),
    };
    if (r.request)
      op['requestBody'] = { required: true, content: { [r.request.contentType]: { schema: r.request.schema } } };
    // These live at the server root, not under /api/v1.
    paths[key] = { ...(paths[key] ?? {}), servers: [{ url: serverUrl }], [r.method]: op };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Switchyard admin API',
      version: '1',
      description:
        'Outgoing webhooks, incoming webhook processing and Microsoft 365 mailboxes. Every route needs `Authorization: Bearer <API key or access token>`.',
    },
    servers: [{ url: `${serverUrl}/api/v1` }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key, or an access token from POST /oauth2/token (client credentials).',
        },
        basic: {
          type: 'http',
          scheme: 'basic',
          description: 'An API application’s client id and secret (POST /oauth2/token only).',
        },
        clientCredentials: {
          type: 'oauth2',
          description:
            'The scope every API key and application carries (set when it is created); a bearer token acts with its scope.',
          flows: {
            clientCredentials: {
              tokenUrl: `${serverUrl}/oauth2/token`,
              scopes: {
                admin: 'Everything, including creating and revoking credentials',
                'read-only': 'GET routes only (never the credentials list)',
                integration: 'One integration’s own routes (/integrations/{id}/…), bound at creation',
              },
            },
          },
        },
      },
      schemas,
    },
    paths,
  };
}

interface LayerLike {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

/** Every route an Express app serves, as `METHOD /path` (walks mounted routers). */
export function listExpressRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: LayerLike[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [m, on] of Object.entries(layer.route.methods)) {
          if (on && m !== '_all')
            out.push(`${m.toUpperCase()} ${prefix}${layer.route.path === '/' ? '' : layer.route.path}`);
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '');
  return out;
}
