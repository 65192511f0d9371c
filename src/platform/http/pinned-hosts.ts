import net from 'node:net';

/**
 * Where a stored provider secret (client secret, refresh or access token) may be sent: the
 * provider's official hosts over https, or a host the operator listed (an emulator, a sovereign
 * cloud). Held by the destination policy, so it applies when a URL is saved and again on every
 * request, whatever the stored settings say.
 */
export interface PinnedHosts {
  /** Official host names (lower case); https on the default port only. */
  official: readonly string[];
  /** The operator's `host` or `host:port` patterns; `*.example.net` matches its subdomains. */
  custom: readonly string[];
  /** The setting that lists custom hosts, named in refusals. */
  settingName: string;
}

const isLoopbackHost = (host: string) =>
  host === 'localhost' ||
  host === '::1' ||
  (net.isIPv4(host) && host.startsWith('127.')) ||
  /^::ffff:127\./i.test(host);

function matchesPattern(pattern: string, host: string, port: string): boolean {
  const p = pattern.trim().toLowerCase();
  // `[::1]:8080`, `[::1]`, `host:port` or `host`.
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(p) ?? /^([^:]+)(?::(\d+))?$/.exec(p);
  if (!m) return false;
  const [, hostPattern, portPattern] = m;
  if (portPattern !== undefined && portPattern !== port) return false;
  if (hostPattern!.startsWith('*.')) return host.endsWith(hostPattern!.slice(1));
  return host === hostPattern;
}

/** Why a URL may not carry a stored provider secret, or undefined when it may. */
export function pinnedHostProblem(url: URL, pins: PinnedHosts): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (url.protocol === 'https:' && port === '443' && pins.official.includes(host)) return undefined;
  const custom = pins.custom.some((p) => matchesPattern(p, host, port));
  if (custom && url.protocol === 'https:') return undefined;
  if (custom && url.protocol === 'http:' && isLoopbackHost(host)) return undefined;
  if (custom) return `${url.host} is allowed by ${pins.settingName} for https only (plain http: loopback only)`;
  if (pins.official.includes(host)) return `${host} must be called over https on the default port`;
  return `${url.host} is not an official host of this provider (${pins.official.join(', ')}); an operator can allow it with ${pins.settingName}`;
}
