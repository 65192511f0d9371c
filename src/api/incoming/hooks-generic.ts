import express, { type Router } from 'express';
import { acceptGenericWebhook, type GenericIntakeDeps } from '../../incoming/generic/intake';
import { ingressRequest, sendReply } from '../ingress';

/** `POST /hooks/generic/:integrationId`: 202 once the webhook and its start are committed. */
export function genericHooksRouter(deps: GenericIntakeDeps): Router {
  const router = express.Router();
  router.post('/:integrationId', async (req, res) => {
    sendReply(res, await acceptGenericWebhook(deps, ingressRequest(req, res)));
  });
  return router;
}
