import express, { type Router } from 'express';
import { acceptProviderWebhook, type ProviderIntakeDeps } from '../../incoming/provider-intake';
import { quickBooksWire } from '../../incoming/quickbooks/provider';
import { ingressRequest, sendReply } from '../ingress';

/** `POST /hooks/quickbooks/:integrationId`: both the legacy `eventNotifications` and the CloudEvents format. */
export function quickBooksHooksRouter(deps: ProviderIntakeDeps): Router {
  const router = express.Router();
  router.post('/:integrationId', async (req, res) => {
    sendReply(res, await acceptProviderWebhook(deps, quickBooksWire, ingressRequest(req, res)));
  });
  return router;
}
