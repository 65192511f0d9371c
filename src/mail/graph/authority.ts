import { z } from 'zod';
import type { PinnedHosts } from '../../platform/http/pinned-hosts';
import { assertSafeUrl, type DestinationPolicy } from '../../platform/http/safe-request';

/**
 * Where a tenant signs in and which Graph it talks to. National clouds have their own login
 * and Graph hosts; "custom" covers sovereign or local deployments (the emulator included).
 */
export type AuthoritySetting =
  | { kind: 'global' }
  | { kind: 'us_gov' }
  | { kind: 'us_gov_dod' }
  | { kind: 'china' }
  | {
      kind: 'custom';
      /** https origin of the identity platform, e.g. `https://login.example.net`. */
      loginUrl: string;
      /** https origin of Microsoft Graph (the client appends `/v1.0`). */
      graphUrl: string;
      /** Resource the Graph scopes belong to; defaults to the global Graph resource. */
      graphResource?: string | undefined;
      /** OpenID metadata (token/authorize endpoints, issuer, jwks) so MSAL makes no discovery call. */
      authorityMetadata?: Record<string, unknown> | undefined;
    };

/** What MSAL and the Graph client need for one tenant. */
export interface ResolvedAuthority {
  /** `https://<login host>/<tenant>` */
  authority: string;
  knownAuthorities: string[];
  authorityMetadata?: string;
  /** Graph origin without the version segment. */
  graphBaseUrl: string;
  /** Hosts the Graph client may send the bearer token to (Graph itself plus nextLink/deltaLink hosts). */
  customHosts: Set<string>;
  /** `https://graph.microsoft.com` and friends: the prefix of every Graph scope. */
  graphResource: string;
}

const CLOUDS: Record<Exclude<AuthoritySetting['kind'], 'custom'>, { login: string; graph: string }> = {
  global: { login: 'https://login.microsoftonline.com', graph: 'https://graph.microsoft.com' },
  us_gov: { login: 'https://login.microsoftonline.us', graph: 'https://graph.microsoft.us' },
  us_gov_dod: { login: 'https://login.microsoftonline.us', graph: 'https://dod-graph.microsoft.us' },
  china: { login: 'https://login.chinacloudapi.cn', graph: 'https://microsoftgraph.chinacloudapi.cn' },
};

/**
 * The hosts a mailbox's client secret and Graph tokens may be sent to: the clouds' login and
 * Graph hosts (and the login hosts' aliases MSAL may use). Anything else, a custom authority
 * included, must be listed by the operator in PROVIDER_CUSTOM_HOSTS.
 */
export const MICROSOFT_HOSTS: readonly string[] = [
  ...new Set([
    ...Object.values(CLOUDS).flatMap((c) => [new URL(c.login).hostname, new URL(c.graph).hostname]),
    'login.windows.net',
    'login.partner.microsoftonline.cn',
  ]),
];

/** The pins of every MSAL and Graph call. */
export const microsoftPins = (customHosts: readonly string[]): PinnedHosts => ({
  official: MICROSOFT_HOSTS,
  custom: customHosts,
  settingName: 'PROVIDER_CUSTOM_HOSTS',
});

const GLOBAL_GRAPH_RESOURCE = 'https://graph.microsoft.com';

// MSAL refuses non-https authorities, so a plain-http custom URL would only fail later, obscurely.
const httpsOrigin = z
  .url({ error: 'must be an https URL' })
  .refine((v) => new URL(v).protocol === 'https:', { error: 'must be an https URL' })
  .transform((v) => v.replace(/\/+$/, ''));

const httpsUrl = z
  .url({ error: 'must be an https URL' })
  .max(2000)
  .refine((v) => new URL(v).protocol === 'https:', { error: 'must be an https URL' });

/** The `authority` field of a mailbox as the API accepts it: a cloud name or a custom object. */
export const authoritySchema = z.union([
  z.enum(['global', 'us_gov', 'us_gov_dod', 'china']).transform((kind) => ({ kind }) as AuthoritySetting),
  z
    .object({
      kind: z.literal('custom'),
      loginUrl: httpsOrigin,
      graphUrl: httpsOrigin,
      graphResource: httpsOrigin.optional(),
      authorityMetadata: z
        .object({ token_endpoint: httpsUrl, authorization_endpoint: httpsUrl, issuer: z.string().min(1).max(2000) })
        .loose()
        .optional(),
    })
    .strict(),
]);

/** Maps a mailbox's authority setting and tenant to MSAL and Graph client settings. */
export function resolveAuthority(setting: AuthoritySetting, tenantId: string): ResolvedAuthority {
  if (setting.kind === 'custom') {
    const login = new URL(setting.loginUrl);
    const graph = new URL(setting.graphUrl);
    return {
      authority: `${setting.loginUrl}/${tenantId}`,
      knownAuthorities: [login.host],
      ...(setting.authorityMetadata ? { authorityMetadata: JSON.stringify(setting.authorityMetadata) } : {}),
      graphBaseUrl: setting.graphUrl,
      customHosts: new Set([graph.hostname]),
      graphResource: setting.graphResource ?? GLOBAL_GRAPH_RESOURCE,
    };
  }
  const cloud = CLOUDS[setting.kind];
  return {
    authority: `${cloud.login}/${tenantId}`,
    knownAuthorities: [new URL(cloud.login).host],
    graphBaseUrl: cloud.graph,
    customHosts: new Set([new URL(cloud.graph).hostname]),
    graphResource: cloud.graph,
  };
}

/** Graph permission names (`Mail.ReadWrite`) as fully qualified scopes for this cloud. */
export function graphScopes(resolved: ResolvedAuthority, permissions: string[]): string[] {
  return permissions.map((p) => `${resolved.graphResource}/${p}`);
}

/** The app-only scope: every application permission the admin consented to. */
export function appOnlyScope(resolved: ResolvedAuthority): string {
  return `${resolved.graphResource}/.default`;
}

/**
 * Every URL of a custom authority that MSAL or the Graph client would connect to, checked
 * against the outbound guard: a private or loopback target is refused unless allow-listed, and
 * a host that is not Microsoft's unless the operator listed it in PROVIDER_CUSTOM_HOSTS.
 * (The guard checks again on every request, where a DNS answer cannot slip past it.)
 */
export function authorityDestinationProblems(
  setting: AuthoritySetting,
  policy: DestinationPolicy,
): Array<{ path: string; message: string }> {
  if (setting.kind !== 'custom') return [];
  const urls: Array<[string, unknown]> = [
    ['authority.loginUrl', setting.loginUrl],
    ['authority.graphUrl', setting.graphUrl],
    ...Object.entries(setting.authorityMetadata ?? {})
      .filter(([k, v]) => /(_endpoint|_uri)$/.test(k) && typeof v === 'string')
      .map(([k, v]): [string, unknown] => [`authority.authorityMetadata.${k}`, v]),
  ];
  const problems: Array<{ path: string; message: string }> = [];
  for (const [path, url] of urls) {
    try {
      const parsed = assertSafeUrl(String(url), policy);
      if (parsed.protocol !== 'https:') problems.push({ path, message: 'must be an https URL' });
    } catch (err) {
      problems.push({ path, message: (err as Error).message });
    }
  }
  return problems;
}
