/**
 * OpenAPI entries for the routes outside `/api/v1`: what providers, identity platforms, API
 * applications and monitoring call. A test compares them with the routes Express serves.
 */
import { documentPublicRoute } from './openapi';

const raw = (description: string) => ({
  contentType: 'application/json',
  schema: { type: 'object', description, additionalProperties: true },
});
const html = 'An HTML page for the browser (no JSON)';
// Graph's notification and lifecycle URLs answer alike.
const graphHookResponses = {
  '200': 'Validation token echoed',
  '202': 'Accepted',
  '400': 'Unreadable body',
  '404': 'Unknown mailbox',
};

documentPublicRoute({
  method: 'post',
  path: '/oauth2/token',
  tag: 'API access',
  summary: 'Access token for an API application (OAuth2 client credentials)',
  description:
    'Client id and secret by HTTP Basic or in the form. Answers `{ access_token, token_type: "Bearer", expires_in }`; errors use OAuth2 `{ error, error_description }`.',
  auth: 'basic',
  request: {
    contentType: 'application/x-www-form-urlencoded',
    schema: {
      type: 'object',
      required: ['grant_type'],
      properties: {
        grant_type: { type: 'string', enum: ['client_credentials'] },
        client_id: { type: 'string' },
        client_secret: { type: 'string' },
      },
    },
  },
  responses: {
    '200': 'The access token',
    '400': 'Unsupported grant or missing credentials',
    '401': 'Unknown client or wrong secret',
    '429': 'Too many attempts',
  },
});

documentPublicRoute({
  method: 'post',
  path: '/hooks/generic/:integrationId',
  tag: 'Ingress',
  summary: 'Generic incoming webhook',
  description:
    "A JSON object, signed with the integration's signing secret: `X-Switchyard-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. An optional `X-Switchyard-Delivery` id identifies the delivery (otherwise the body's hash does). Every request is kept in the inbound-request log.",
  auth: 'signature',
  request: raw('The event as the sender defines it'),
  responses: {
    '202': 'Accepted (or a duplicate of an earlier delivery)',
    '400': 'Unreadable body',
    '401': 'Missing or wrong signature',
    '403': 'The integration is disabled',
    '404': 'Unknown integration',
    '413': 'Body too large',
  },
});

documentPublicRoute({
  method: 'post',
  path: '/hooks/xero/:integrationId',
  tag: 'Ingress',
  summary: 'Xero webhook (and its intent-to-receive check)',
  description:
    "`x-xero-signature` = base64(HMAC-SHA256(raw body, webhook key)). A correctly signed delivery gets 200 (an empty one, Xero's intent-to-receive, with no body); a wrongly signed one a bare 401.",
  auth: 'signature',
  request: raw('`{ events: [...], firstEventSequence, lastEventSequence, entropy }`'),
  responses: {
    '200': 'Accepted: one incoming webhook per event',
    '202': 'Deferred (delayed processing method)',
    '400': 'Not a Xero body',
    '401': 'Wrong signature (no body)',
    '403': 'Integration disabled',
    '404': 'Unknown integration',
  },
});

documentPublicRoute({
  method: 'post',
  path: '/hooks/quickbooks/:integrationId',
  tag: 'Ingress',
  summary: 'QuickBooks Online webhook (legacy eventNotifications or CloudEvents)',
  description:
    '`intuit-signature` = base64(HMAC-SHA256(raw body, verifier token)). Merges with `deletedId` also record the merged-away entity as deleted.',
  auth: 'signature',
  request: raw('`{ eventNotifications: [...] }` or a CloudEvents array'),
  responses: {
    '200': 'Accepted: one incoming webhook per entity change',
    '202': 'Deferred (delayed processing method)',
    '400': 'Not a QuickBooks body',
    '401': 'Wrong signature',
    '403': 'Integration disabled',
    '404': 'Unknown integration',
  },
});

documentPublicRoute({
  method: 'post',
  path: '/hooks/graph/:mailboxId/notifications',
  tag: 'Ingress',
  summary: 'Microsoft Graph change notifications for a mailbox',
  description:
    "Answers the `validationToken` handshake with the token as text/plain; notifications must carry the mailbox's `clientState`.",
  auth: 'signature',
  request: raw('`{ value: [ { subscriptionId, clientState, changeType, resource, ... } ] }`'),
  responses: graphHookResponses,
});

documentPublicRoute({
  method: 'post',
  path: '/hooks/graph/:mailboxId/lifecycle',
  tag: 'Ingress',
  summary: 'Microsoft Graph lifecycle notifications (reauthorizationRequired, missed, removed)',
  description:
    'Same handshake and `clientState` check as notifications; the mailbox workflow reauthorizes, catches up or recreates the subscription.',
  auth: 'signature',
  request: raw('`{ value: [ { lifecycleEvent, subscriptionId, clientState, ... } ] }`'),
  responses: graphHookResponses,
});

documentPublicRoute({
  method: 'get',
  path: '/azure/auth',
  tag: 'Sign-in callbacks',
  summary: 'Microsoft identity platform redirect after "Authorize application" (scan mailboxes)',
  description:
    'Bound to the single-use `state` issued by POST /api/v1/mailboxes/{id}/authorize; redeems `code` with the stored PKCE verifier.',
  auth: 'state',
  responses: {
    '200': html,
    '400': `${html}: unknown/used/expired state, refused consent or code`,
    '404': `${html}: the mailbox no longer exists`,
  },
});

documentPublicRoute({
  method: 'get',
  path: '/oauth/:provider/callback',
  tag: 'Sign-in callbacks',
  summary: 'Xero / QuickBooks redirect after "Connect" (provider: xero or quickbooks)',
  description:
    'Bound to the single-use, expiring `state` issued by POST /api/v1/integrations/{id}/connect; redeems `code` with the stored PKCE verifier (QuickBooks also sends `realmId`), stores the tokens encrypted and redirects the browser to the console.',
  auth: 'state',
  responses: {
    '303': 'Connected: back to the console',
    '400': `${html}: unknown/used/expired state, refused consent or code`,
    '404': `${html}: unknown provider or integration`,
  },
});

documentPublicRoute({
  method: 'get',
  path: '/healthz',
  tag: 'Operations',
  summary: 'Liveness',
  description: 'The process answers.',
  auth: 'none',
  responses: { '200': 'Alive' },
});

documentPublicRoute({
  method: 'get',
  path: '/readyz',
  tag: 'Operations',
  summary: 'Readiness (database and Temporal reachable)',
  description:
    'For load balancers and orchestrators: the status and which part is down. The error texts and the intake backlog only with `Authorization: Bearer` and the metrics token or an admin API key.',
  auth: 'none',
  responses: { '200': 'Ready', '503': 'A dependency is not reachable' },
});

documentPublicRoute({
  method: 'get',
  path: '/metrics',
  tag: 'Operations',
  summary: 'Prometheus metrics',
  description:
    'Text exposition format 0.0.4, rendered at most once per METRICS_CACHE_SECONDS. Needs `Authorization: Bearer <METRICS_TOKEN>` when that is set; without it, open on a loopback-only API and 403 on any other.',
  auth: 'none',
  responses: {
    '200': 'Metrics',
    '401': 'METRICS_TOKEN is set and was not sent',
    '403': 'No METRICS_TOKEN, and the API listens off loopback',
  },
});
