/**
 * The admin API's OpenAPI entries, built from the zod schemas the handlers validate with.
 * A test compares this list with the routes Express actually serves, so a new route
 * without an entry fails the build.
 */
import { z } from 'zod';
import { eventInputSchema } from '../outgoing/event';
import { webhookCreateSchema, webhookUpdateSchema } from '../outgoing/webhook-config';
import { documentRoute, type RouteDoc } from './openapi';
import { limitSchema } from './pagination';
import { createBody as apiClientCreate } from './api-clients';
import { listQuery as inboundMailQuery, retryMany as inboundMailRetry } from './mail/inbound-mail';
import { listQuery as incomingQuery, requestsQuery, retryBody as incomingRetry } from './incoming/incoming-webhooks';
import { createAny as integrationCreate, updateGeneric } from './incoming/integrations';
import { catchUpBody } from './incoming/integrations-catch-up';
import { connectBody, tenantBody } from './incoming/integrations-connect';
import { updateProvider } from './incoming/integrations-providers';
import { createMailboxSchema, updateMailboxSchema } from './mail/mailbox-settings';
import {
  deliveryStatsQuery,
  deliveryStatsResponse,
  errorsQuery,
  errorsResponse,
  incomingStatsQuery,
  incomingStatsResponse,
  intakeStatsResponse,
  mailboxStatsQuery,
  mailboxStatsResponse,
} from './overview/stats';
import { listQuery as ticketsQuery, replyBody } from './mail/tickets';
import { bulkResendBody, deliveriesQuery, rotateBody } from './outgoing/webhooks';

const page = z.object({ cursor: z.string().optional(), limit: limitSchema }).strict();
const created = (description: string) => ({ status: 201, description });
const accepted = (description: string) => ({ status: 202, description });

const routes: RouteDoc[] = [
  // API access
  {
    method: 'get',
    path: '/api-clients',
    scope: 'admin',
    tag: 'API access',
    summary: 'List API applications and API keys',
  },
  {
    method: 'post',
    path: '/api-clients',
    scope: 'admin',
    tag: 'API access',
    summary: 'Create an API application (client credentials) or API key; the secret is shown once',
    body: apiClientCreate,
    success: created('Created'),
  },
  {
    method: 'delete',
    path: '/api-clients/{id}',
    scope: 'admin',
    tag: 'API access',
    summary: 'Revoke an API application or key',
    success: { status: 204, description: 'Deleted' },
  },
  {
    method: 'get',
    path: '/console-info',
    scope: 'read',
    tag: 'API access',
    summary: 'Links the console needs (Temporal UI, namespace)',
  },

  // Integrations and incoming webhooks
  {
    method: 'get',
    path: '/integrations',
    scope: 'read',
    tag: 'Integrations',
    summary: 'List integrations (generic, Xero, QuickBooks Online)',
  },
  {
    method: 'post',
    path: '/integrations',
    scope: 'admin',
    tag: 'Integrations',
    summary: 'Create an integration; secrets are encrypted and never returned',
    body: integrationCreate,
    success: created('Created'),
  },
  {
    method: 'get',
    path: '/integrations/{id}',
    scope: 'integration',
    tag: 'Integrations',
    summary: 'Read an integration',
  },
  {
    method: 'patch',
    path: '/integrations/{id}',
    scope: 'integration',
    tag: 'Integrations',
    summary: 'Update an integration (generic shape shown; Xero/QuickBooks accept their settings)',
    body: z.union([updateGeneric, updateProvider]),
  },
  {
    method: 'delete',
    path: '/integrations/{id}',
    scope: 'admin',
    tag: 'Integrations',
    summary: 'Delete an integration',
    success: { status: 204, description: 'Deleted' },
  },
  {
    method: 'post',
    path: '/integrations/{id}/connect',
    scope: 'integration',
    tag: 'Integrations',
    summary:
      'Connect to Xero / QuickBooks: the consent URL to open (OAuth2 code with PKCE; the provider returns to /oauth/{provider}/callback)',
    body: connectBody,
  },
  {
    method: 'get',
    path: '/integrations/{id}/connection',
    scope: 'integration',
    tag: 'Integrations',
    summary:
      'Connection state: connected, how (connect, pasted refresh token, client credentials), tenant/realm, last token error',
  },
  {
    method: 'get',
    path: '/integrations/{id}/connection/tenants',
    scope: 'integration',
    tag: 'Integrations',
    summary: 'Xero: the organisations the connection reaches (from /connections) and the one chosen',
  },
  {
    method: 'put',
    path: '/integrations/{id}/connection/tenant',
    scope: 'integration',
    tag: 'Integrations',
    summary: 'Xero: choose the organisation this integration processes',
    body: tenantBody,
  },
  {
    method: 'post',
    path: '/integrations/{id}/disconnect',
    scope: 'integration',
    tag: 'Integrations',
    summary: 'Revoke the refresh token at the provider and forget every token',
  },
  {
    method: 'post',
    path: '/integrations/{id}/catch-up',
    scope: 'integration',
    tag: 'Integrations',
    summary:
      'QuickBooks: process every change since a time through CDC (after a gap); changes already processed end stale',
    body: catchUpBody,
    success: accepted('Changes stored and processing started'),
  },
  {
    method: 'get',
    path: '/incoming-webhooks',
    scope: 'read',
    tag: 'Incoming webhooks',
    summary: 'The incoming webhook log across integrations',
    query: incomingQuery,
  },
  {
    method: 'get',
    path: '/incoming-webhooks/summary',
    scope: 'read',
    tag: 'Incoming webhooks',
    summary: 'Counts by status',
    query: z.object({ integrationId: z.uuid().optional() }).strict(),
  },
  {
    method: 'post',
    path: '/incoming-webhooks/retry',
    scope: 'admin',
    tag: 'Incoming webhooks',
    summary: 'Retry many webhooks (fresh resource data)',
    body: incomingRetry,
    success: accepted('Retries started'),
  },
  {
    method: 'get',
    path: '/incoming-webhooks/{id}',
    scope: 'read',
    tag: 'Incoming webhooks',
    summary: 'One webhook: details, payload, result and attempts with their logs',
  },
  {
    method: 'get',
    path: '/incoming-webhooks/{id}/resource-data',
    scope: 'read',
    tag: 'Incoming webhooks',
    summary: 'Resource data fetched from the provider, with download dates',
  },
  {
    method: 'post',
    path: '/incoming-webhooks/{id}/retry',
    scope: 'admin',
    tag: 'Incoming webhooks',
    summary: 'Retry one webhook (fresh resource data)',
    success: accepted('Retry started'),
  },
  {
    method: 'get',
    path: '/inbound-requests',
    scope: 'read',
    tag: 'Incoming webhooks',
    summary: 'Integration inbound requests: every raw request with the answer given',
    query: requestsQuery,
  },

  // Outgoing webhooks
  { method: 'get', path: '/webhooks', scope: 'read', tag: 'Outgoing webhooks', summary: 'List webhooks', query: page },
  {
    method: 'post',
    path: '/webhooks',
    scope: 'admin',
    tag: 'Outgoing webhooks',
    summary: 'Create a webhook (payload, events with conditions, batching, auth, signing)',
    body: webhookCreateSchema,
    success: created('Created; a generated signing secret is shown once'),
  },
  {
    method: 'get',
    path: '/webhooks/{id}',
    scope: 'read',
    tag: 'Outgoing webhooks',
    summary: 'Read a webhook (secrets never returned)',
  },
  {
    method: 'patch',
    path: '/webhooks/{id}',
    scope: 'admin',
    tag: 'Outgoing webhooks',
    summary: 'Update a webhook; enabling releases held deliveries',
    body: webhookUpdateSchema,
  },
  {
    method: 'delete',
    path: '/webhooks/{id}',
    scope: 'admin',
    tag: 'Outgoing webhooks',
    summary: 'Delete a webhook',
    success: { status: 204, description: 'Deleted' },
  },
  {
    method: 'post',
    path: '/webhooks/{id}/rotate-secret',
    scope: 'admin',
    tag: 'Outgoing webhooks',
    summary: 'Rotate the signing secret with a grace period (both signatures sent)',
    body: rotateBody,
  },
  {
    method: 'get',
    path: '/webhooks/{id}/lane',
    scope: 'read',
    tag: 'Outgoing webhooks',
    summary:
      "The webhook's delivery lane: queue depth, in flight, held, next retry or batch flush, counters (from the running lane, or from the database when it is not running)",
  },
  {
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    scope: 'read',
    tag: 'Outgoing webhooks',
    summary: "A webhook's deliveries log",
    query: deliveriesQuery,
  },
  {
    method: 'post',
    path: '/webhooks/{id}/deliveries/resend',
    scope: 'admin',
    tag: 'Outgoing webhooks',
    summary: 'Resend many deliveries (by ids, or all failed since a time)',
    body: bulkResendBody,
    success: accepted('Resends started'),
  },
  {
    method: 'get',
    path: '/deliveries/{id}',
    scope: 'read',
    tag: 'Outgoing webhooks',
    summary: 'One delivery with its attempts (request, response, duration, error)',
  },
  {
    method: 'post',
    path: '/deliveries/{id}/resend',
    scope: 'admin',
    tag: 'Outgoing webhooks',
    summary: 'Resend one delivery (409 for lightweight-log webhooks)',
    success: accepted('Resend started'),
  },
  {
    method: 'post',
    path: '/events',
    scope: 'admin',
    tag: 'Outgoing webhooks',
    summary: 'Emit a domain event; 202 once durable',
    body: eventInputSchema,
    success: accepted('Accepted'),
  },
  {
    method: 'get',
    path: '/events/{id}',
    scope: 'read',
    tag: 'Outgoing webhooks',
    summary: 'One event and the deliveries it went into',
  },
  {
    method: 'get',
    path: '/event-types',
    scope: 'read',
    tag: 'Outgoing webhooks',
    summary: 'The event catalogue with each object type’s fields',
  },

  // Overview statistics
  {
    method: 'get',
    path: '/stats/deliveries',
    scope: 'read',
    tag: 'Statistics',
    summary: 'Deliveries per hour by outcome and latency percentiles (creation to success), in total and per webhook',
    query: deliveryStatsQuery,
    success: {
      status: 200,
      description: 'Hourly buckets, totals and the busiest webhooks',
      schema: deliveryStatsResponse,
    },
  },
  {
    method: 'get',
    path: '/stats/incoming',
    scope: 'read',
    tag: 'Statistics',
    summary: 'Incoming webhooks received per hour, by status',
    query: incomingStatsQuery,
    success: { status: 200, description: 'Hourly buckets and totals', schema: incomingStatsResponse },
  },
  {
    method: 'get',
    path: '/stats/intake',
    scope: 'read',
    tag: 'Statistics',
    summary: 'Intake backlog: work accepted and not yet started, and how old the oldest item is',
    success: { status: 200, description: 'Backlog', schema: intakeStatsResponse },
  },
  {
    method: 'get',
    path: '/stats/mailboxes',
    scope: 'read',
    tag: 'Statistics',
    summary: "Each mailbox's subscription status and time to expiry, soonest first",
    query: mailboxStatsQuery,
    success: { status: 200, description: 'Mailboxes', schema: mailboxStatsResponse },
  },
  {
    method: 'get',
    path: '/stats/errors',
    scope: 'read',
    tag: 'Statistics',
    summary: 'The newest failures: deliveries, incoming webhooks, inbound emails and replies',
    query: errorsQuery,
    success: { status: 200, description: 'Newest first, keyset-paginated', schema: errorsResponse },
  },

  // Mailboxes and tickets
  { method: 'get', path: '/mailboxes', scope: 'read', tag: 'Mailboxes', summary: 'List mailboxes' },
  {
    method: 'post',
    path: '/mailboxes',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Create a Microsoft 365 mailbox (webhooks or scan method)',
    body: createMailboxSchema,
    success: created('Created'),
  },
  {
    method: 'get',
    path: '/mailboxes/{id}',
    scope: 'read',
    tag: 'Mailboxes',
    summary: 'Read a mailbox (client secret never returned)',
  },
  {
    method: 'patch',
    path: '/mailboxes/{id}',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Update a mailbox',
    body: updateMailboxSchema,
  },
  {
    method: 'delete',
    path: '/mailboxes/{id}',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Delete a mailbox',
    success: { status: 204, description: 'Deleted' },
  },
  {
    method: 'post',
    path: '/mailboxes/{id}/subscription',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Create subscription (Graph change notifications, self-renewing)',
    success: created('Created (200 when it already existed, 202 while Graph is slow)'),
  },
  {
    method: 'get',
    path: '/mailboxes/{id}/subscription',
    scope: 'read',
    tag: 'Mailboxes',
    summary: 'Subscription details, expiry and the mailbox workflow state',
  },
  {
    method: 'delete',
    path: '/mailboxes/{id}/subscription',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Cancel subscription (deleted at Graph)',
  },
  {
    method: 'post',
    path: '/mailboxes/{id}/authorize',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Authorize application: the delegated sign-in URL (scan method)',
  },
  {
    method: 'post',
    path: '/mailboxes/{id}/disconnect',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Forget the delegated sign-in and stop scanning',
  },
  {
    method: 'post',
    path: '/mailboxes/{id}/import',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Import emails now (reports permission problems)',
  },
  {
    method: 'get',
    path: '/mailboxes/{id}/inbound-log',
    scope: 'read',
    tag: 'Mailboxes',
    summary: "A mailbox's inbound log",
    query: inboundMailQuery,
  },
  {
    method: 'get',
    path: '/mailboxes/{id}/error-notifications',
    scope: 'read',
    tag: 'Mailboxes',
    summary: 'Error notifications sent for this mailbox',
  },
  {
    method: 'get',
    path: '/inbound-mail',
    scope: 'read',
    tag: 'Mailboxes',
    summary: 'Inbound log across mailboxes',
    query: inboundMailQuery,
  },
  { method: 'get', path: '/inbound-mail/summary', scope: 'read', tag: 'Mailboxes', summary: 'Counts by status' },
  {
    method: 'post',
    path: '/inbound-mail/retry',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Retry many emails',
    body: inboundMailRetry,
    success: accepted('Retries started'),
  },
  {
    method: 'get',
    path: '/inbound-mail/{id}',
    scope: 'read',
    tag: 'Mailboxes',
    summary: 'One email with its processing requests',
  },
  {
    method: 'get',
    path: '/inbound-mail/{id}/requests/{attempt}',
    scope: 'read',
    tag: 'Mailboxes',
    summary: 'One processing request with the raw data fetched',
  },
  {
    method: 'post',
    path: '/inbound-mail/{id}/retry',
    scope: 'admin',
    tag: 'Mailboxes',
    summary: 'Retry one email',
    success: accepted('Retry started'),
  },
  { method: 'get', path: '/tickets', scope: 'read', tag: 'Tickets', summary: 'List tickets', query: ticketsQuery },
  { method: 'get', path: '/tickets/{id}', scope: 'read', tag: 'Tickets', summary: 'A ticket with its messages' },
  {
    method: 'post',
    path: '/tickets/{id}/reply',
    scope: 'admin',
    tag: 'Tickets',
    summary:
      'Reply through Graph from the outgoing default mailbox, optionally with stored attachments (attachmentIds)',
    body: replyBody,
    success: accepted('Sent'),
  },
  {
    method: 'get',
    path: '/tickets/{id}/attachments',
    scope: 'read',
    tag: 'Tickets',
    summary: "The ticket's attachments: stored ones with a download URL, skipped ones with the note why",
  },
  {
    method: 'get',
    path: '/tickets/{id}/attachments/{attachmentId}/content',
    scope: 'read',
    tag: 'Tickets',
    summary: 'Download an attachment (raster images inline unless ?download=1; everything else as a download)',
  },
];

for (const r of routes) documentRoute({ ...r, path: r.path.replace(/\{(\w+)\}/g, ':$1') });
