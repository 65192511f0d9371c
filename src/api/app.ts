import path from 'node:path';
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Db } from '../db/pool';
import type { DestinationPolicy } from '../http/safe-request';
import type { Logger } from '../logger';
import type { SecretBox } from '../security/secret-box';
import { requireApiAuth, tokenRouter } from './auth';
import { bodyReadRefusal, errorBody, errorHandler, notFound } from './errors';
import { answerAndLog } from './ingress';
import { apiClientsRouter } from './routes/api-clients';
import { genericHooksRouter } from './routes/hooks-generic';
import { quickBooksHooksRouter } from './routes/hooks-quickbooks';
import { xeroHooksRouter } from './routes/hooks-xero';
import { inboundProcessingSettings } from './inbound-start';
import { healthRouter } from './routes/health';
import { inboundRequestsRouter, incomingWebhooksRouter } from './routes/incoming-webhooks';
import { integrationsRouter } from './routes/integrations';
import { deliveriesRouter } from './routes/deliveries';
import { eventsRouter, eventTypesRouter } from './routes/events';
import { webhooksRouter } from './routes/webhooks';
import { outgoingSettings } from '../outgoing/settings';
import { azureAuth, graphHooks, mailboxApi, mailboxRouteDeps } from './mailbox-routes';
import { httpMetrics, metricsAuth, providerLabel, renderMetrics } from '../observability/metrics';
import { abuseLimits } from '../http/abuse-limits';
import { redactClientStateForLog } from '../integrations/microsoft-graph/client-state';
import { declaredTooLarge, ingressBoundary, inputLimits, jsonBody } from '../http/input-boundary';
import { buildOpenApiDocument } from './openapi';
import './openapi-routes';

export interface AppDeps {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
  secrets: SecretBox;
}

export function outboundPolicy(config: Config): DestinationPolicy {
  return { allowedHosts: config.OUTBOUND_ALLOWED_HOSTS };
}

export function createApp(deps: AppDeps): Express {
  const { config, db, temporal, logger, secrets } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  app.use((req, res, next) => {
    res.locals['startedAt'] = performance.now();
    res.on('finish', () => {
      const ms = Math.round(performance.now() - (res.locals['startedAt'] as number));
      logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    next();
  });

  app.use(httpMetrics);
  app.use(healthRouter({ db, temporal }));
  app.get('/metrics', metricsAuth(config.METRICS_TOKEN), async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await renderMetrics(db, config));
  });
  // The operator console: static pages that call this API with the operator's key.
  app.get('/', (_req, res) => res.redirect('/console/'));
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
  const ingressDeps = {
    db,
    logger,
    temporal,
    secrets,
    abuse,
    inputLimits: limits,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    inbound: {
      activityTimeoutSeconds: config.INBOUND_ACTIVITY_TIMEOUT_SECONDS,
      retryInitialSeconds: config.INBOUND_RETRY_INITIAL_SECONDS,
    },
  };
  const hooks = express.Router();
  hooks.use(declaredTooLarge(config.BODY_LIMIT_BYTES));
  hooks.use(express.raw({ type: () => true, limit: config.BODY_LIMIT_BYTES }));
  // Graph's clientState is a secret: the log keeps notifications with it redacted (the route reads the original).
  hooks.use('/graph', redactClientStateForLog);
  // The input boundary for every ingress body, before any route reads it; refusals are logged.
  hooks.use(ingressBoundary(limits, (req, res, status, code, message, details) =>
    answerAndLog(ingressDeps, req, res, providerLabel(req.path.split('/')[1]), {
      status,
      body: errorBody(code, message, details),
      outcome: 'rejected',
      integrationId: null,
    }),
  ));
  const mailboxes = mailboxRouteDeps(deps);
  hooks.use('/generic', genericHooksRouter(ingressDeps));
  hooks.use('/graph', graphHooks(mailboxes));
  const providerIngress = { ...ingressDeps, processing: inboundProcessingSettings(config) };
  hooks.use('/xero', xeroHooksRouter(providerIngress));
  hooks.use('/quickbooks', quickBooksHooksRouter(providerIngress));
  // An oversized, aborted or undecodable body is still a request someone sent: log it with its
  // answer. The rest of the body is not read: the connection is closed after the answer, so a
  // false Content-Length cannot hold it open.
  hooks.use(((err, req, res, next) => {
    const refusal = bodyReadRefusal(err, config.BODY_LIMIT_BYTES);
    if (!refusal) return next(err);
    if (refusal.code === 'invalid_path') req.body = Buffer.alloc(0);
    if (refusal.close) res.set('Connection', 'close');
    void answerAndLog(ingressDeps, req, res, providerLabel(req.path.split('/')[1]), {
      status: refusal.status,
      body: errorBody(refusal.code, refusal.message),
      outcome: 'rejected',
      integrationId: null,
    });
  }) as express.ErrorRequestHandler);
  app.use('/hooks', hooks);
  app.use('/azure/auth', azureAuth(mailboxes));

  const api = express.Router();
  api.use(requireApiAuth(auth));
  api.use(jsonBody({ limitBytes: config.BODY_LIMIT_BYTES, limits }));
  const logDeps = { db, temporalUiUrl: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE };
  api.use(
    '/integrations',
    integrationsRouter({ db, secrets, publicBaseUrl: config.publicBaseUrl, outbound: outboundPolicy(config) }),
  );
  api.use('/incoming-webhooks', incomingWebhooksRouter({ ...logDeps, retry: providerIngress }));
  api.use('/inbound-requests', inboundRequestsRouter({ db }));
  api.use('/api-clients', apiClientsRouter({ db, tokenUrl: `${config.publicBaseUrl}/oauth2/token` }));
  const outgoing = {
    db,
    secrets,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    settings: outgoingSettings(config),
    temporalUiUrl: config.TEMPORAL_UI_URL,
    namespace: config.TEMPORAL_NAMESPACE,
  };
  api.use('/webhooks', webhooksRouter(outgoing));
  api.use('/deliveries', deliveriesRouter(outgoing));
  api.use('/events', eventsRouter(outgoing));
  api.use('/event-types', eventTypesRouter());
  api.use(mailboxApi(mailboxes));
  api.get('/console-info', (_req, res) => {
    res.json({ temporalUiUrl: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE });
  });
  app.use('/api/v1', api);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
