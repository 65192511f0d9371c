import { madeUpMailbox } from '../mailbox-helpers';
import { api, ingress, type CorpusCase, type CorpusFixtures } from './corpus';
import { bytes, deepText, INVALID_UTF8, J, NO_SUCH_ID } from './payloads';

/** Hostile input to Microsoft Graph's notification ingress and the mailboxes API (the mail capability). */

const graphPath =
  (kind = 'notifications') =>
  (f: CorpusFixtures) =>
    `/hooks/graph/${f.mailboxId}/${kind}`;

/** A Graph change notification with a guessed clientState; `over` replaces parts of it. */
export const graphNote = (over: Record<string, unknown> = {}) => ({
  value: [
    {
      subscriptionId: 'sub-1',
      clientState: 'a-guess-at-the-client-state',
      changeType: 'created',
      resource: 'Users/x/Messages/y',
      resourceData: { id: 'msg-1' },
      ...over,
    },
  ],
});
const mailbox = (over: Record<string, unknown>) => madeUpMailbox({ name: 'ssrf', ...over });
const loopback = (f: CorpusFixtures, host: string) => `https://${host}:${f.probePort}`;
const custom = (over: Record<string, unknown> = {}) => ({
  kind: 'custom',
  loginUrl: 'https://login.example.net',
  graphUrl: 'https://graph.example.net',
  ...over,
});
const meta = (over: Record<string, unknown> = {}) => ({
  token_endpoint: 'https://login.example.net/t/oauth2/v2.0/token',
  authorization_endpoint: 'https://login.example.net/t/oauth2/v2.0/authorize',
  issuer: 'https://login.example.net/t/v2.0',
  ...over,
});

export const mailCases: CorpusCase[] = [
  // Microsoft Graph notifications
  ingress({
    name: 'graph: unknown mailbox',
    path: `/hooks/graph/${NO_SUCH_ID}/notifications`,
    body: J(graphNote()),
    status: 404,
  }),
  ingress({
    name: 'graph: mailbox id not a uuid',
    path: '/hooks/graph/x/notifications',
    body: J(graphNote()),
    status: 404,
  }),
  ingress({ name: 'graph: wrong clientState', path: graphPath(), body: J(graphNote()), status: 401 }),
  ingress({
    name: 'graph: lifecycle, wrong clientState',
    path: graphPath('lifecycle'),
    body: J({ value: [{ subscriptionId: 's', clientState: 'guess', lifecycleEvent: 'missed' }] }),
    status: 401,
  }),
  ingress({
    name: 'graph: lifecycle, unknown event',
    path: graphPath('lifecycle'),
    body: J({ value: [{ subscriptionId: 's', lifecycleEvent: 'explode' }] }),
    status: 400,
  }),
  ingress({ name: 'graph: malformed JSON', path: graphPath(), body: '{"value":[', status: 400 }),
  ingress({
    name: 'graph: invalid UTF-8',
    path: graphPath(),
    body: bytes('{"value":[{"subscriptionId":"', INVALID_UTF8, '"}]}'),
    status: 400,
  }),
  ingress({
    name: 'graph: NUL in the resource id',
    path: graphPath(),
    body: J(graphNote({ resourceData: { id: '\u0000' } })),
    status: 400,
  }),
  ingress({ name: 'graph: deep nesting', path: graphPath(), body: `{"value":${deepText(30_000)}}`, status: 400 }),
  ingress({ name: 'graph: no items', path: graphPath(), body: '{"value":[]}', status: 400 }),
  ingress({ name: 'graph: value not an array', path: graphPath(), body: '{"value":"x"}', status: 400 }),
  ingress({
    name: 'graph: too many items',
    path: graphPath(),
    body: J({ value: new Array(10_001).fill({}) }),
    status: 400,
  }),
  // The mailboxes API
  api({
    name: 'mailboxes: login URL on loopback',
    path: '/api/v1/mailboxes',
    body: (f) => J(mailbox({ authority: custom({ loginUrl: loopback(f, '127.0.0.1') }) })),
    status: 400,
  }),
  api({
    name: 'mailboxes: Graph URL on [::1]',
    path: '/api/v1/mailboxes',
    body: (f) => J(mailbox({ authority: custom({ graphUrl: loopback(f, '[::1]') }) })),
    status: 400,
  }),
  api({
    name: 'mailboxes: token endpoint on loopback',
    path: '/api/v1/mailboxes',
    body: (f) =>
      J(
        mailbox({
          authority: custom({ authorityMetadata: meta({ token_endpoint: `${loopback(f, '127.0.0.1')}/token` }) }),
        }),
      ),
    status: 400,
  }),
  api({
    name: 'mailboxes: token endpoint over http',
    path: '/api/v1/mailboxes',
    body: J(
      mailbox({ authority: custom({ authorityMetadata: meta({ token_endpoint: 'http://login.example.net/token' }) }) }),
    ),
    status: 400,
  }),
  api({
    name: 'mailboxes: authorize endpoint on a private address',
    path: '/api/v1/mailboxes',
    body: J(
      mailbox({
        authority: custom({ authorityMetadata: meta({ authorization_endpoint: 'https://10.0.0.1/authorize' }) }),
      }),
    ),
    status: 400,
  }),
  api({
    name: 'mailboxes: jwks on the metadata address',
    path: '/api/v1/mailboxes',
    body: J(mailbox({ authority: custom({ authorityMetadata: meta({ jwks_uri: 'https://169.254.169.254/keys' }) }) })),
    status: 400,
  }),
  api({
    name: 'mailboxes: login URL on localhost',
    path: '/api/v1/mailboxes',
    body: (f) => J(mailbox({ authority: custom({ loginUrl: loopback(f, 'localhost') }) })),
    status: 400,
  }),
  api({
    name: 'mailboxes: Graph URL on NAT64 loopback',
    path: '/api/v1/mailboxes',
    body: (f) => J(mailbox({ authority: custom({ graphUrl: loopback(f, '[64:ff9b::7f00:1]') }) })),
    status: 400,
  }),
  api({
    name: 'mailboxes: PATCH authority to loopback',
    method: 'PATCH',
    path: (f) => `/api/v1/mailboxes/${f.mailboxId}`,
    body: (f) => J({ authority: custom({ loginUrl: loopback(f, '127.0.0.1') }) }),
    status: 400,
  }),
  api({
    name: 'mailboxes: NUL in the name',
    path: '/api/v1/mailboxes',
    body: J(mailbox({ name: '\u0000' })),
    status: 400,
  }),
  api({
    name: 'mailboxes: invalid UTF-8 name',
    path: '/api/v1/mailboxes',
    body: bytes(
      '{"name":"',
      INVALID_UTF8,
      '","tenantId":"t","clientId":"11111111-2222-3333-4444-555555555555","clientSecret":"s","method":"webhooks","emailAddress":"a@b.example"}',
    ),
    status: 400,
  }),
];
