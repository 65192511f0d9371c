import type { Config } from '../platform/config';
import type { PinnedHosts } from '../platform/http/pinned-hosts';
import type { DestinationPolicy } from '../platform/http/safe-request';
import type { ProviderName } from './provider-types';
import { QUICKBOOKS_HOSTS } from './quickbooks/settings';
import { XERO_HOSTS } from './xero/settings';

/**
 * Where Xero and QuickBooks secrets may go. A URL is checked against its own provider's hosts
 * when it is saved; at call time any official accounting-provider host passes (the call sites
 * share one policy), and the operator's PROVIDER_CUSTOM_HOSTS (the emulators) pass throughout.
 */
const OFFICIAL: Record<ProviderName, readonly string[]> = { xero: XERO_HOSTS, quickbooks: QUICKBOOKS_HOSTS };

export function providerPins(customHosts: readonly string[], provider?: ProviderName): PinnedHosts {
  return {
    official: provider ? OFFICIAL[provider] : [...XERO_HOSTS, ...QUICKBOOKS_HOSTS],
    custom: customHosts,
    settingName: 'PROVIDER_CUSTOM_HOSTS',
  };
}

/** The destination policy of every Xero and QuickBooks call (token, API, connections, revocation). */
export function providerPolicy(
  config: Pick<Config, 'OUTBOUND_ALLOWED_HOSTS' | 'PROVIDER_CUSTOM_HOSTS'>,
): DestinationPolicy {
  return { allowedHosts: config.OUTBOUND_ALLOWED_HOSTS, pinned: providerPins(config.PROVIDER_CUSTOM_HOSTS) };
}

/** The same policy held to one provider's hosts: what a saved URL must pass. */
export const pinnedToProvider = (policy: DestinationPolicy, provider: ProviderName): DestinationPolicy => ({
  ...policy,
  pinned: providerPins(policy.pinned?.custom ?? [], provider),
});
