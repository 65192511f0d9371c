import { anonymous, api, type CorpusCase } from './corpus';
import { basic, bearer, bytes, deepText, form, INVALID_UTF8, J } from './payloads';

/** Hostile input to what every capability shares: API authentication, API clients, the token endpoint, /metrics. */

export const platformCases: CorpusCase[] = [
  // Admin API authentication
  anonymous({ name: 'api: no credentials', path: '/api/v1/integrations', status: 401 }),
  anonymous({ name: 'api: unknown key', path: '/api/v1/integrations', headers: bearer('sy_key_nope'), status: 401 }),
  anonymous({
    name: 'api: Basic scheme',
    path: '/api/v1/integrations',
    headers: { authorization: basic('a:b') },
    status: 401,
  }),
  anonymous({ name: 'api: unknown token', path: '/api/v1/webhooks', headers: bearer('sy_at_nope'), status: 401 }),
  // The API clients API
  api({
    name: 'api-clients: NUL in the name',
    path: '/api/v1/api-clients',
    body: J({ name: 'a\u0000', kind: 'application' }),
    status: 400,
  }),
  api({ name: 'api-clients: deep body', path: '/api/v1/api-clients', body: deepText(30_000), status: 400 }),
  // The OAuth token endpoint (RFC 6749 errors)
  anonymous({
    name: 'token: malformed percent-encoding in Basic',
    path: '/oauth2/token',
    headers: { ...form, authorization: basic('%E0%A4%A:secret') },
    body: 'grant_type=client_credentials',
    status: 400,
    envelope: 'oauth',
  }),
  anonymous({
    name: 'token: invalid UTF-8 in Basic',
    path: '/oauth2/token',
    headers: { ...form, authorization: basic(bytes('app', INVALID_UTF8, ':s')) },
    body: 'grant_type=client_credentials',
    status: 400,
    envelope: 'oauth',
  }),
  anonymous({
    name: 'token: NUL in Basic',
    path: '/oauth2/token',
    headers: { ...form, authorization: basic('app%00:s') },
    body: 'grant_type=client_credentials',
    status: 400,
    envelope: 'oauth',
  }),
  anonymous({
    name: 'token: NUL in client_id',
    path: '/oauth2/token',
    headers: form,
    body: 'grant_type=client_credentials&client_id=a%00&client_secret=b',
    status: 400,
    envelope: 'oauth',
  }),
  anonymous({
    name: 'token: wrong grant type',
    path: '/oauth2/token',
    headers: form,
    body: 'grant_type=password',
    status: 400,
    envelope: 'oauth',
  }),
  anonymous({
    name: 'token: unknown client',
    path: '/oauth2/token',
    headers: form,
    body: 'grant_type=client_credentials&client_id=app_x&client_secret=y',
    status: 401,
    envelope: 'oauth',
  }),
  anonymous({
    name: 'token: JSON with NUL',
    path: '/oauth2/token',
    body: J({ grant_type: 'client_credentials', client_id: '\u0000', client_secret: 'x' }),
    status: 400,
  }),
  anonymous({ name: 'token: deep JSON', path: '/oauth2/token', body: deepText(5_000), status: 400 }),
  // /metrics
  anonymous({ name: 'metrics: no token', path: '/metrics', status: 401 }),
  anonymous({ name: 'metrics: wrong token', path: '/metrics', headers: bearer('wrong-token-0123456789'), status: 401 }),
];
