import path from 'node:path';
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Db } from '../db/pool';
import { outboundPolicy } from '../http/outbound-policy';
import type { Logger } from '../logger';
import type { SecretBox } from '../security/secret-box';
import { requireApiAuth, tokenRouter } from './auth';
import { errorBody, errorHandler, notFound } from './errors';
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
import { httpMetrics, renderMetrics } from '../observability/metrics';
import { buildOpenApiDocument } from './openapi';
import './openapi-routes';

export interface AppDeps {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
  secrets: SecretBox;
}

// Shared with the worker (which must not import src/api).
export { outboundPolicy };

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
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await renderMetrics(db, config));
  });
  // The operator console: static pages that call this API with the operator's key.
  app.get('/', (_req, res) => res.redirect('/console/'));
  app.use('/console', express.static(path.join(__dirname, '..', 'console'), { index: 'index.html', maxAge: 0 }));
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(buildOpenApiDocument(config.publicBaseUrl));
  });

  const auth = {
    db,
    tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    rateLimit: { requests: config.RATE_LIMIT_REQUESTS, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS },
  };
  app.use('/oauth2/token', tokenRouter(auth));

  // Ingress: the raw bytes are needed for signature checks, so no JSON parser here.
  const ingressDeps = {
    db,
    logger,
    temporal,
    secrets,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    inbound: {
      activityTimeoutSeconds: config.INBOUND_ACTIVITY_TIMEOUT_SECONDS,
      retryInitialSeconds: config.INBOUND_RETRY_INITIAL_SECONDS,
    },
  };
  const hooks = express.Router();
  hooks.use(express.raw({ type: () => true, limit: config.BODY_LIMIT_BYTES }));
  const mailboxes = mailboxRouteDeps(deps);
  hooks.use('/generic', genericHooksRouter(ingressDeps));
  hooks.use('/graph', graphHooks(mailboxes));
  const providerIngress = { ...ingressDeps, processing: inboundProcessingSettings(config) };
  hooks.use('/xero', xeroHooksRouter(providerIngress));
  hooks.use('/quickbooks', quickBooksHooksRouter(providerIngress));
  // An oversized or unreadable body is still a request someone sent: log it with its answer.
  hooks.use(((err, req, res, next) => {
    const e = err as { type?: string };
    if (e.type !== 'entity.too.large' && e.type !== 'request.aborted') return next(err);
    const provider = req.path.split('/')[1] ?? 'unknown';
    void answerAndLog(ingressDeps, req, res, provider, {
      status: 413,
      body: errorBody('payload_too_large', `The body exceeds ${config.BODY_LIMIT_BYTES} bytes`),
      outcome: 'rejected',
      integrationId: null,
    });
  }) as express.ErrorRequestHandler);
  app.use('/hooks', hooks);
  app.use('/azure/auth', azureAuth(mailboxes));

  const api = express.Router();
  api.use(requireApiAuth(auth));
  api.use(express.json({ limit: config.BODY_LIMIT_BYTES }));
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
