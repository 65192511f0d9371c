import express, { type Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../platform/config';
import type { Db } from '../../platform/db/pool';
import { mailSettings } from '../../mail/settings';
import { abuseLimits } from '../../platform/http/abuse-limits';
import { inputLimits } from '../../platform/http/input-boundary';
import type { Logger } from '../../platform/logger';
import type { SecretBox } from '../../platform/security/secret-box';
import { azureAuthRouter } from './azure-auth';
import { graphHooksRouter } from './graph-notifications';
import type { GraphIntakeDeps } from '../../mail/notification-intake';
import { inboundMailRouter } from './inbound-mail';
import { mailboxesRouter } from './mailboxes';
import { ticketsRouter } from './tickets';

/** Everything the Microsoft 365 mailbox routes share, built once from the app's dependencies. */
export function mailboxRouteDeps(deps: {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
  secrets: SecretBox;
  wake: () => void;
}) {
  const { config } = deps;
  return {
    db: deps.db,
    logger: deps.logger,
    secrets: deps.secrets,
    temporal: deps.temporal,
    wake: deps.wake,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    settings: mailSettings(config),
    inputLimits: inputLimits(config),
    abuse: abuseLimits(config),
    temporalUiUrl: config.TEMPORAL_UI_URL,
    namespace: config.TEMPORAL_NAMESPACE,
  };
}

export type MailboxRoutesDeps = ReturnType<typeof mailboxRouteDeps>;

/** Graph notification endpoints, mounted under `/hooks/graph` (raw body; parsed after the checks). */
export const graphHooks = (deps: GraphIntakeDeps): Router => graphHooksRouter(deps);

/** The delegated sign-in callback, mounted at `/azure/auth` (no API key: the browser comes back here). */
export const azureAuth = (deps: MailboxRoutesDeps): Router => azureAuthRouter(deps);

/** `/mailboxes`, `/inbound-mail` and `/tickets` under the authenticated `/api/v1`. */
export function mailboxApi(deps: MailboxRoutesDeps): Router {
  const router = express.Router();
  router.use('/mailboxes', mailboxesRouter(deps));
  router.use('/inbound-mail', inboundMailRouter(deps));
  router.use('/tickets', ticketsRouter(deps));
  return router;
}
