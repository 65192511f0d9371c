import express, { type Router } from 'express';
import { parseJsonBody } from '../../integrations/inbound-event';
import type { XeroSettings } from '../../integrations/xero/settings';
import { parseXeroBody, verifyXeroSignature, XERO_SIGNATURE_HEADER, xeroEvents } from '../../integrations/xero/webhook';
import { handleProviderHook, type ProviderIngressDeps, type ProviderWire } from '../provider-ingress';

const xeroWire: ProviderWire = {
  provider: 'xero',
  bareUnauthorized: true,
  verify: (raw, req, key) => verifyXeroSignature(raw, req.get(XERO_SIGNATURE_HEADER), key),
  events: (raw) => xeroEvents(parseXeroBody(parseJsonBody(raw))),
  wanted: (e, settings) => {
    const tenants = (settings as XeroSettings).tenantIds;
    return settings.entityTypes.includes(e.entityType) && (!tenants || tenants.includes(e.tenantId));
  },
};

/**
 * `POST /hooks/xero/:integrationId`. Xero's intent-to-receive check posts `events: []`: a
 * correctly signed one gets 200 and a wrongly signed one 401, both without a body.
 */
export function xeroHooksRouter(deps: ProviderIngressDeps): Router {
  const router = express.Router();
  router.post('/:integrationId', (req, res) => handleProviderHook(deps, xeroWire, req, res));
  return router;
}
