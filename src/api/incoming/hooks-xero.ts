import express, { type Router } from 'express';
import { acceptProviderWebhook, type ProviderIntakeDeps } from '../../incoming/provider-intake';
import { xeroWire } from '../../incoming/xero/provider';
import { ingressRequest, sendReply } from '../ingress';

/**
 * `POST /hooks/xero/:integrationId`. Every answer is bare, as Xero documents: 200 for a correctly
 * signed delivery (its intent-to-receive check posts `events: []`), 401 otherwise. What
 * Switchyard made of it is in the inbound-request log.
 */
export function xeroHooksRouter(deps: ProviderIntakeDeps): Router {
  const router = express.Router();
  router.post('/:integrationId', async (req, res) => {
    sendReply(res, await acceptProviderWebhook(deps, xeroWire, ingressRequest(req, res)));
  });
  return router;
}
