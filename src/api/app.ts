import path from 'node:path';
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db/pool';
import { outboundPolicy } from '../platform/http/outbound-policy';
import type { Logger } from '../platform/logger';
import type { SecretBox } from '../platform/security/secret-box';
import { requireApiAuth, tokenRouter } from './auth';
import { bodyReadRefusal, errorHandler, notFound } from './errors';
import { ingressRequest, sendReply } from './ingress';
import { apiClientsRouter } from './api-clients';
import { genericHooksRouter } from './incoming/hooks-generic';
import { quickBooksHooksRouter } from './incoming/hooks-quickbooks';
import { xeroHooksRouter } from './incoming/hooks-xero';
import { healthRouter, type PartStates } from './health';
import { inboundRequestsRouter, incomingWebhooksRouter } from './incoming/incoming-webhooks';
import { integrationsRouter } from './incoming/integrations';
import { oauthCallbackRouter } from './incoming/integrations-connect';
import { providerRuntime } from '../incoming/provider-http';
import { providerPolicy } from '../incoming/provider-hosts';
import { deliveriesRouter } from './outgoing/deliveries';
import { eventsRouter, eventTypesRouter } from './outgoing/events';
import { statsRouter } from './overview/stats';
import { webhooksRouter } from './outgoing/webhooks';
import { outgoingSettings } from '../outgoing/settings';
import { azureAuth, graphHooks, mailboxApi, mailboxRouteDeps } from './mail';
import { retentionMetrics } from '../retention/metrics';
import { httpMetrics, providerLabel, renderMetrics } from '../platform/observability/metrics';
import { cachedRender, metricsAccess } from '../platform/observability/metrics-endpoint';
import { securityHeaders } from './security-headers';
import { abuseLimits } from '../platform/http/abuse-limits';
import { originalBody, redactClientStateForLog } from '../mail/graph/client-state';
import { declaredTooLarge, ingressBoundary, inputLimits, jsonBody } from '../platform/http/input-boundary';
import { buildOpenApiDocument, documentedRoutes } from './openapi';
import { requireScope } from './scopes';
import { traceRequests } from '../platform/http/trace-requests';
import { consoleVendorRouter } from './console-vendor';
import './openapi-routes';
import { BacklogGate } from '../platform/intake/backlog';
import { inboundProcessingSettings } from '../incoming/processing-methods';
import { logOnly } from '../platform/ingress/ingress';
import { refusal } from '../platform/ingress/refusals';
import type { IngressReply } from '../platform/ingress/ingress';
import './openapi-public';

export interface AppDeps {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
  secrets: SecretBox;
  /** Intake's backlog gate and starter wake-up; without it ingress relies on the starters' poll. */
  intake?: { backlog: BacklogGate; wake: () => void };
  /** The launcher's supervised parts, for /healthz and /readyz. */
  parts?: PartStates | undefined;
}

// Shared with the worker (which must not import src/api).
export { outboundPolicy };

export function createApp(deps: AppDeps): Express {
  const { config, db, temporal, logger, secrets } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Whose X-Forwarded-For decides req.ip (the address the abuse limits count): TRUST_PROXY.
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(securityHeaders);

  app.use(traceRequests());
  app.use((req, res, next) => {
    res.locals['startedAt'] = performance.now();
    res.on('finish', () => {
      const ms = Math.round(performance.now() - (res.locals['startedAt'] as number));
      logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    next();
  });

  app.use(httpMetrics);
  app.use(healthRouter({ db, temporal, parts: deps.parts, metricsToken: config.METRICS_TOKEN }));
  const metricsText = cachedRender(() => renderMetrics(db, config, [retentionMetrics]), config.METRICS_CACHE_SECONDS);
  app.get('/metrics', metricsAccess({ token: config.METRICS_TOKEN, host: config.HTTP_HOST }), async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await metricsText());
  });
  // The operator console: static pages that call this API with the operator's key.
  app.get('/', (_req, res) => res.redirect('/console/'));
  app.use('/console/vendor', consoleVendorRouter());
  app.use('/console', express.static(path.join(__dirname, '..', 'console'), { index: 'index.html', maxAge: 0 }));
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(buildOpenApiDocument(config.publicBaseUrl));
  });

  const abuse = abuseLimits(config);
  const limits = inputLimits(config);
  const auth = {
    db,
    tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    rateLimit: { requests: config.RATE_LIMIT_REQUESTS, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS },
    abuse,
  };
  app.use('/oauth2/token', tokenRouter(auth));

  // Ingress: the raw bytes are needed for signature checks, so no JSON parser here.
  const intake = {
    db,
    logger,
    secrets,
    backlog: deps.intake?.backlog ?? new BacklogGate(db, config.INTAKE_BACKLOG_LIMIT),
    wake: deps.intake?.wake ?? (() => undefined),
    retryAfterSeconds: config.INTAKE_RETRY_AFTER_SECONDS,
    processing: inboundProcessingSettings(config),
    abuse,
    inputLimits: limits,
  };
  const hooks = express.Router();
  hooks.use(declaredTooLarge(config.BODY_LIMIT_BYTES));
  hooks.use(express.raw({ type: () => true, limit: config.BODY_LIMIT_BYTES }));
  // Graph's clientState is a secret: the log keeps notifications with it redacted (the route reads the original).
  hooks.use('/graph', redactClientStateForLog);
  // A refusal before any route ran (input boundary, unreadable body) is logged like any other.
  const refuseEarly = (req: express.Request, res: express.Response, reply: IngressReply) =>
    logOnly(intake, providerLabel(req.path.split('/')[1]), ingressRequest(req, res), reply).then((r) =>
      sendReply(res, r),
    );
  // The input boundary for every ingress body, before any route reads it: the bytes as sent
  // (Graph's, not the redacted copy for the log), which is what the routes read.
  hooks.use(
    ingressBoundary(
      limits,
      (req, res, status, code, message, details) =>
        refuseEarly(req, res, refusal(status, code, message, null, details)),
      (req, res) => originalBody(res, req.body),
    ),
  );
  const mailboxes = mailboxRouteDeps({ ...deps, wake: intake.wake });
  hooks.use('/generic', genericHooksRouter(intake));
  hooks.use('/graph', graphHooks({ ...intake, settings: mailboxes.settings }));
  hooks.use('/xero', xeroHooksRouter(intake));
  hooks.use('/quickbooks', quickBooksHooksRouter(intake));
  // An oversized, aborted or undecodable body is still a request someone sent: log it with its
  // answer. The rest of the body is not read: the connection is closed after the answer, so a
  // false Content-Length cannot hold it open.
  hooks.use(((err, req, res, next) => {
    const refused = bodyReadRefusal(err, config.BODY_LIMIT_BYTES);
    if (!refused) return next(err);
    if (refused.code === 'invalid_path') req.body = Buffer.alloc(0);
    if (refused.close) res.set('Connection', 'close');
    void refuseEarly(req, res, refusal(refused.status, refused.code, refused.message, null));
  }) as express.ErrorRequestHandler);
  app.use('/hooks', hooks);
  app.use('/azure/auth', azureAuth(mailboxes));
  const connect = {
    db,
    secrets,
    policy: providerPolicy(config),
    timeoutMs: config.OUTBOUND_TIMEOUT_MS,
    publicBaseUrl: config.publicBaseUrl,
    tokenSkewSeconds: config.PROVIDER_TOKEN_REFRESH_SKEW_SECONDS,
    tokenLeaseSeconds: config.PROVIDER_TOKEN_LEASE_SECONDS,
  };
  app.use('/oauth', oauthCallbackRouter({ ...connect, logger }));

  const api = express.Router();
  api.use(requireApiAuth(auth));
  api.use(requireScope(documentedRoutes));
  api.use(jsonBody({ limitBytes: config.BODY_LIMIT_BYTES, limits }));
  const logDeps = { db, temporalUiUrl: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE };
  api.use(
    '/integrations',
    integrationsRouter({
      db,
      secrets,
      publicBaseUrl: config.publicBaseUrl,
      outbound: outboundPolicy(config),
      connect,
      catchUp: { ingress: intake, runtime: providerRuntime(config, db, secrets) },
    }),
  );
  api.use('/incoming-webhooks', incomingWebhooksRouter({ ...logDeps, retry: intake }));
  api.use('/inbound-requests', inboundRequestsRouter({ db }));
  api.use('/api-clients', apiClientsRouter({ db, tokenUrl: `${config.publicBaseUrl}/oauth2/token` }));
  const outgoing = {
    db,
    secrets,
    temporal,
    wake: intake.wake,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    settings: outgoingSettings(config),
    temporalUiUrl: config.TEMPORAL_UI_URL,
    namespace: config.TEMPORAL_NAMESPACE,
  };
  api.use('/webhooks', webhooksRouter(outgoing));
  api.use('/deliveries', deliveriesRouter(outgoing));
  api.use('/events', eventsRouter(outgoing));
  api.use('/event-types', eventTypesRouter());
  api.use('/stats', statsRouter({ db }));
  api.use(mailboxApi(mailboxes));
  api.get('/console-info', (_req, res) => {
    res.json({ temporalUiUrl: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE });
  });
  app.use('/api/v1', api);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
