import { parseJsonBody } from '../inbound-event';
import type { ProviderWire } from '../provider-wire';
import type { QuickBooksSettings } from './settings';
import { QUICKBOOKS_SIGNATURE_HEADER, quickBooksEvents, verifyQuickBooksSignature } from './webhook';

/** Both the legacy `eventNotifications` and the CloudEvents format. */
export const quickBooksWire: ProviderWire = {
  provider: 'quickbooks',
  bareAnswers: false,
  verify: (raw, headers, token) => verifyQuickBooksSignature(raw, headers[QUICKBOOKS_SIGNATURE_HEADER], token),
  events: (raw) => quickBooksEvents(parseJsonBody(raw)),
  wanted: (e, settings) => {
    const realms = (settings as QuickBooksSettings).realmIds;
    return settings.entityTypes.includes(e.entityType) && (!realms || realms.includes(e.tenantId));
  },
};
