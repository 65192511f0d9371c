import { appOnlyScope, authoritySchema, graphScopes, resolveAuthority } from './authority';

test('national clouds map to their login and Graph hosts', () => {
  const cases = [
    ['global', 'https://login.microsoftonline.com/t1', 'https://graph.microsoft.com'],
    ['us_gov', 'https://login.microsoftonline.us/t1', 'https://graph.microsoft.us'],
    ['us_gov_dod', 'https://login.microsoftonline.us/t1', 'https://dod-graph.microsoft.us'],
    ['china', 'https://login.chinacloudapi.cn/t1', 'https://microsoftgraph.chinacloudapi.cn'],
  ] as const;
  for (const [kind, authority, graph] of cases) {
    const r = resolveAuthority(authoritySchema.parse(kind), 't1');
    expect([kind, r.authority, r.graphBaseUrl]).toEqual([kind, authority, graph]);
    expect(appOnlyScope(r)).toBe(`${graph}/.default`);
    expect(r.customHosts.has(new URL(graph).hostname)).toBe(true);
  }
});

test('a custom authority carries its hosts and metadata, with Graph scopes on the global resource', () => {
  const setting = authoritySchema.parse({
    kind: 'custom',
    loginUrl: 'https://localhost:4443/',
    graphUrl: 'https://localhost:4443',
    authorityMetadata: {
      token_endpoint: 'https://localhost:4443/t/token',
      authorization_endpoint: 'https://localhost:4443/t/authorize',
      issuer: 'x',
    },
  });
  const r = resolveAuthority(setting, 'contoso');
  expect(r.authority).toBe('https://localhost:4443/contoso');
  expect(r.knownAuthorities).toEqual(['localhost:4443']);
  expect(JSON.parse(r.authorityMetadata!)).toMatchObject({ issuer: 'x' });
  expect(graphScopes(r, ['Mail.ReadWrite'])).toEqual(['https://graph.microsoft.com/Mail.ReadWrite']);
});

test('refuses plain-http custom authorities (MSAL would refuse them later, obscurely)', () => {
  const parsed = authoritySchema.safeParse({
    kind: 'custom',
    loginUrl: 'http://login.test',
    graphUrl: 'https://graph.test',
  });
  expect(parsed.success).toBe(false);
});
