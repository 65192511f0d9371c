import express, { type Router } from 'express';
import { parseJsonBody } from '../../integrations/inbound-event';
import type { QuickBooksSettings } from '../../integrations/quickbooks/settings';
import { QUICKBOOKS_SIGNATURE_HEADER, quickBooksEvents, verifyQuickBooksSignature } from '../../integrations/quickbooks/webhook';
import { handleProviderHook, type ProviderIngressDeps, type ProviderWire } from '../provider-ingress';

const quickBooksWire: ProviderWire = {
  provider: 'quickbooks',
  bareUnauthorized: false,
  verify: (raw, req, token) => verifyQuickBooksSignature(raw, req.get(QUICKBOOKS_SIGNATURE_HEADER), token),
  events: (raw) => quickBooksEvents(parseJsonBody(raw)),
  wanted: (e, settings) => {
    const realms = (settings as QuickBooksSettings).realmIds;
    return settings.entityTypes.includes(e.entityType) && (!realms || realms.includes(e.tenantId));
  },
};

/** `POST /hooks/quickbooks/:integrationId`: both the legacy `eventNotifications` and the CloudEvents format. */
export function quickBooksHooksRouter(deps: ProviderIngressDeps): Router {
  const router = express.Router();
  router.post('/:integrationId', (req, res) => handleProviderHook(deps, quickBooksWire, req, res));
  return router;
}
