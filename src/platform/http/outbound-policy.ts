import type { Config } from '../config';
import type { DestinationPolicy } from './safe-request';

/** The destination policy every outbound request (API checks, worker activities) is held to. */
export function outboundPolicy(config: Config): DestinationPolicy {
  return { allowedHosts: config.OUTBOUND_ALLOWED_HOSTS };
}
