import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { getIntegration, type IntegrationRow } from '../../incoming/db/integrations';
import {
  chooseXeroTenant,
  completeConnect,
  ConnectError,
  connectRedirectUri,
  connectionStatus,
  disconnect,
  startConnect,
  xeroTenants,
  type ConnectDeps,
} from '../../incoming/provider-connect';
import { NotAProviderIntegrationError } from '../../incoming/providers';
import type { Logger } from '../../platform/logger';
import { HttpError, parseOr400 } from '../errors';
import { bindConsentToBrowser, consentNonce } from '../consent-cookie';
import { sendHtmlPage } from '../html-page';

/**
 * The Connect flow's routes: admin routes under `/api/v1/integrations/:id` (start, status,
 * tenant choice, disconnect) and the provider's redirect target `/oauth/:provider/callback`,
 * which needs no API key: it is bound to a single-use, expiring state instead.
 */

const uuid = z.uuid({ error: 'must be a UUID' });
export const connectBody = z.object({ returnTo: z.string().max(500).optional() }).strict();
export const tenantBody = z.object({ tenantId: z.uuid({ error: 'must be a Xero tenant id (a UUID)' }) }).strict();

const asHttp = (err: unknown): unknown => {
  if (err instanceof ConnectError) return new HttpError(err.status, err.code, err.message);
  if (err instanceof NotAProviderIntegrationError) return new HttpError(409, 'not_connectable', err.message);
  return err;
};

async function load(db: ConnectDeps['db'], raw: unknown): Promise<IntegrationRow> {
  const id = parseOr400(uuid, raw, 'integration id');
  const row = await getIntegration(db, id);
  if (!row) throw new HttpError(404, 'integration_not_found', `No integration ${id}`);
  if (row.provider === 'generic')
    throw new HttpError(409, 'not_connectable', 'Generic integrations have no provider account to connect');
  return row;
}

/** Admin routes, mounted on the integrations router. */
export function integrationConnectRoutes(router: Router, deps: ConnectDeps): void {
  const run =
    (fn: (req: express.Request, res: Response) => Promise<void>) => async (req: express.Request, res: Response) => {
      try {
        await fn(req, res);
      } catch (err) {
        throw asHttp(err);
      }
    };

  router.post(
    '/:id/connect',
    run(async (req, res) => {
      const body = parseOr400(connectBody, req.body ?? {});
      const integration = await load(deps.db, req.params['id']);
      const callback = connectRedirectUri(deps.publicBaseUrl, integration.provider as 'xero' | 'quickbooks');
      const nonce = bindConsentToBrowser(req, res, callback);
      res.json(await startConnect(deps, integration, nonce, body.returnTo));
    }),
  );

  router.get(
    '/:id/connection',
    run(async (req, res) => {
      res.json(await connectionStatus(deps, await load(deps.db, req.params['id'])));
    }),
  );

  router.get(
    '/:id/connection/tenants',
    run(async (req, res) => {
      const integration = await load(deps.db, req.params['id']);
      const status = await connectionStatus(deps, integration);
      res.json({ data: await xeroTenants(deps, integration), chosen: status.tenantId });
    }),
  );

  router.put(
    '/:id/connection/tenant',
    run(async (req, res) => {
      const body = parseOr400(tenantBody, req.body);
      const integration = await load(deps.db, req.params['id']);
      const { tenant, integration: updated } = await chooseXeroTenant(deps, integration, body.tenantId);
      res.json({ tenant, connection: await connectionStatus(deps, updated) });
    }),
  );

  router.post(
    '/:id/disconnect',
    run(async (req, res) => {
      const integration = await load(deps.db, req.params['id']);
      res.json(await disconnect(deps, integration));
    }),
  );
}

/** `GET /oauth/:provider/callback`: redeems the code, stores the tokens, returns the browser to the console. */
export function oauthCallbackRouter(deps: ConnectDeps & { logger: Logger }): Router {
  const router = express.Router();
  router.get('/:provider/callback', async (req, res) => {
    const provider = req.params['provider'];
    if (provider !== 'xero' && provider !== 'quickbooks') {
      return sendHtmlPage(res, 404, 'Unknown provider', 'Only Xero and QuickBooks connect here.');
    }
    try {
      const done = await completeConnect(
        deps,
        provider,
        req.query as Record<string, unknown>,
        (id) => getIntegration(deps.db, id),
        consentNonce(req),
      );
      deps.logger.info(
        { integrationId: done.integration.id, provider, tenants: done.tenants.length },
        'integration connected',
      );
      const back = done.returnTo ?? `/console/#/integrations/${done.integration.id}`;
      res.set('Cache-Control', 'no-store').redirect(303, `${deps.publicBaseUrl}${back}`);
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      deps.logger.warn({ provider, code: err.code }, 'connect callback refused');
      sendHtmlPage(res, err.status, 'Connection failed', err.message, `${deps.publicBaseUrl}/console/#/integrations`);
    }
  });
  return router;
}
