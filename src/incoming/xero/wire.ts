import { parseJsonBody } from '../inbound-event';
import type { ProviderWire } from '../provider-wire';
import type { XeroSettings } from './settings';
import { parseXeroBody, verifyXeroSignature, XERO_SIGNATURE_HEADER, xeroEvents } from './webhook';

export const xeroWire: ProviderWire = {
  provider: 'xero',
  bareAnswers: true,
  verify: (raw, headers, key) => verifyXeroSignature(raw, headers[XERO_SIGNATURE_HEADER], key),
  events: (raw) => xeroEvents(parseXeroBody(parseJsonBody(raw))),
  wanted: (e, settings) => {
    const tenants = (settings as XeroSettings).tenantIds;
    return settings.entityTypes.includes(e.entityType) && (!tenants || tenants.includes(e.tenantId));
  },
};
