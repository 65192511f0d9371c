import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { canAccess, resolveMailbox } from './graph-context';
import type { GraphContext, GraphRoute } from './graph-context';
import { fail, graphError, invalidBody, ok } from './replies';
import type { HttpReply, Outcome } from './replies';
import { renderSubscription } from './subscriptions';
import type { ChangeType, Subscription } from './subscriptions';

const CHANGE_TYPES: readonly string[] = ['created', 'updated', 'deleted'] satisfies ChangeType[];
const MAX_PER_MAILBOX = 1000;
const MAX_CLIENT_STATE = 128;

const createBody = z.strictObject({
  '@odata.type': z.string().optional(),
  changeType: z.string(),
  notificationUrl: z.string(),
  resource: z.string(),
  expirationDateTime: z.string(),
  clientState: z.string().nullable().optional(),
  lifecycleNotificationUrl: z.string().nullable().optional(),
  latestSupportedTlsVersion: z.enum(['v1_0', 'v1_1', 'v1_2', 'v1_3']).optional(),
  includeResourceData: z.boolean().nullable().optional(),
  encryptionCertificate: z.string().nullable().optional(),
  encryptionCertificateId: z.string().nullable().optional(),
  notificationQueryOptions: z.string().nullable().optional(),
  notificationUrlAppId: z.string().nullable().optional(),
});

const patchBody = z.strictObject({
  '@odata.type': z.string().optional(),
  expirationDateTime: z.string().optional(),
  notificationUrl: z.string().optional(),
});

// users/{id|mail}/messages, users('{id}')/mailFolders('inbox')/messages, /me/mailFolders/inbox/messages...
const RESOURCE =
  /^\/?(?:users(?:\('([^']+)'\)|\/([^/]+))|(me))\/(?:mailFolders(?:\('([^']+)'\)|\/([^/]+))\/)?messages\/?$/i;

/** /subscriptions endpoints. */
export const subscriptionRoutes: GraphRoute[] = [
  { method: 'POST', pattern: 'subscriptions', mailbox: false, handle: createSubscription },
  { method: 'GET', pattern: 'subscriptions', mailbox: false, handle: listSubscriptions },
  { method: 'GET', pattern: 'subscriptions/:id', mailbox: false, handle: getSubscription },
  { method: 'PATCH', pattern: 'subscriptions/:id', mailbox: false, handle: renewSubscription },
  { method: 'DELETE', pattern: 'subscriptions/:id', mailbox: false, handle: deleteSubscription },
  { method: 'POST', pattern: 'subscriptions/:id/reauthorize', mailbox: false, handle: reauthorizeSubscription },
];

async function createSubscription(ctx: GraphContext): Promise<HttpReply> {
  const { deps, principal } = ctx;
  const parsed = createBody.safeParse(ctx.req.body);
  if (!parsed.success) return invalidBody(parsed.error, 'subscription');
  const body = parsed.data;

  const requestedTypes = [...new Set(body.changeType.split(',').map((type) => type.trim()))];
  const invalidType = requestedTypes.find((type) => !isChangeType(type));
  if (invalidType !== undefined) {
    return graphError(400, 'InvalidRequest', `Invalid 'changeType' attribute: '${invalidType}'.`);
  }
  const urls = [body.notificationUrl, ...(body.lifecycleNotificationUrl ? [body.lifecycleNotificationUrl] : [])];
  const badUrl = urls.find((url) => !acceptableUrl(url));
  if (badUrl !== undefined) {
    return graphError(400, 'InvalidRequest', `Invalid notification url '${badUrl}'. The url must be an https url.`);
  }
  if ((body.clientState?.length ?? 0) > MAX_CLIENT_STATE) {
    return graphError(400, 'InvalidRequest', `clientState must be at most ${MAX_CLIENT_STATE} characters long.`);
  }
  const resource = RESOURCE.exec(body.resource);
  if (!resource) {
    return graphError(
      400,
      'InvalidRequest',
      `Resource '${body.resource}' is not supported. Use users/{id}/mailFolders('inbox')/messages or users/{id}/messages.`,
    );
  }
  const mailbox = resolveMailbox(ctx, resource[1] ?? resource[2] ?? resource[3] ?? '');
  if (!mailbox.ok) return mailbox.reply;
  const { user } = mailbox.value;
  if (!canAccess(principal, user, 'read')) {
    return extensionError(403, 'Forbidden', 'Access is denied. Check credentials and try again.');
  }
  const folderSegment = resource[4] ?? resource[5];
  const folder = folderSegment === undefined ? undefined : deps.store.folder(mailbox.value.mailbox, folderSegment);
  if (folderSegment !== undefined && !folder) {
    return graphError(404, 'ErrorItemNotFound', 'The specified folder could not be found in the store.');
  }
  const expiry = checkExpiry(ctx, body.expirationDateTime);
  if (!expiry.ok) return expiry.reply;
  if (deps.subscriptions.active().filter((s) => s.mailboxUserId === user.id).length >= MAX_PER_MAILBOX) {
    return extensionError(403, 'Forbidden', `The mailbox has reached its limit of ${MAX_PER_MAILBOX} subscriptions.`);
  }

  const id = randomUUID();
  for (const url of urls) {
    const validated = await deps.notifier.validate(url, id);
    if (!validated.ok) return validated.reply;
  }
  const subscription: Subscription = {
    id,
    applicationId: principal.appId,
    tenantId: principal.tenantId,
    creatorId:
      principal.kind === 'user'
        ? principal.userId
        : (deps.directory.findApp(principal.appId)?.servicePrincipalId ?? ''),
    resource: body.resource,
    mailboxUserId: user.id,
    folderId: folder?.id ?? null,
    changeTypes: requestedTypes.filter(isChangeType),
    notificationUrl: body.notificationUrl,
    lifecycleNotificationUrl: body.lifecycleNotificationUrl ?? null,
    clientState: body.clientState ?? null,
    expirationDateTime: expiry.value,
    immutableIds: ctx.prefer.immutableIds,
    latestSupportedTlsVersion: body.latestSupportedTlsVersion ?? 'v1_2',
    reauthorizationRequired: false,
  };
  deps.subscriptions.add(subscription);
  return { status: 201, body: subscriptionEntity(ctx, subscription) };
}

function listSubscriptions(ctx: GraphContext): HttpReply {
  const value = ctx.deps.subscriptions
    .active()
    .filter((subscription) => ownedBy(ctx, subscription))
    .map(renderSubscription);
  return { status: 200, body: { '@odata.context': `${ctx.deps.baseUrl()}/v1.0/$metadata#subscriptions`, value } };
}

function getSubscription(ctx: GraphContext, params: Record<string, string>): HttpReply {
  const found = findOwned(ctx, params);
  return found.ok ? { status: 200, body: subscriptionEntity(ctx, found.value) } : found.reply;
}

async function renewSubscription(ctx: GraphContext, params: Record<string, string>): Promise<HttpReply> {
  const found = findOwned(ctx, params);
  if (!found.ok) return found.reply;
  const parsed = patchBody.safeParse(ctx.req.body);
  if (!parsed.success) return invalidBody(parsed.error, 'subscription');
  const subscription = found.value;
  let expiry: Date | undefined;
  if (parsed.data.expirationDateTime !== undefined) {
    const checked = checkExpiry(ctx, parsed.data.expirationDateTime);
    if (!checked.ok) return checked.reply;
    expiry = checked.value;
  }
  const newUrl = parsed.data.notificationUrl;
  if (newUrl !== undefined && newUrl !== subscription.notificationUrl) {
    if (!acceptableUrl(newUrl)) return graphError(400, 'InvalidRequest', `Invalid notification url '${newUrl}'.`);
    const validated = await ctx.deps.notifier.validate(newUrl, subscription.id);
    if (!validated.ok) return validated.reply;
    subscription.notificationUrl = newUrl;
  }
  if (expiry) subscription.expirationDateTime = expiry;
  // Renewing through PATCH also answers a reauthorizationRequired challenge.
  subscription.reauthorizationRequired = false;
  return { status: 200, body: subscriptionEntity(ctx, subscription) };
}

function deleteSubscription(ctx: GraphContext, params: Record<string, string>): HttpReply {
  const found = findOwned(ctx, params);
  if (!found.ok) return found.reply;
  ctx.deps.subscriptions.delete(found.value.id);
  return { status: 204 };
}

function reauthorizeSubscription(ctx: GraphContext, params: Record<string, string>): HttpReply {
  const found = findOwned(ctx, params);
  if (!found.ok) return found.reply;
  found.value.reauthorizationRequired = false;
  return { status: 204 };
}

function subscriptionEntity(ctx: GraphContext, subscription: Subscription): Record<string, unknown> {
  return {
    '@odata.context': `${ctx.deps.baseUrl()}/v1.0/$metadata#subscriptions/$entity`,
    ...renderSubscription(subscription),
  };
}

function findOwned(ctx: GraphContext, params: Record<string, string>): Outcome<Subscription> {
  const subscription = ctx.deps.subscriptions.get(params['id'] ?? '');
  if (!subscription || !ownedBy(ctx, subscription)) {
    return fail(graphError(404, 'ResourceNotFound', 'The object was not found.'));
  }
  return ok(subscription);
}

// An app sees the subscriptions it created in its tenant, whichever user or app identity created them.
function ownedBy(ctx: GraphContext, subscription: Subscription): boolean {
  return subscription.applicationId === ctx.principal.appId && subscription.tenantId === ctx.principal.tenantId;
}

function isChangeType(value: string): value is ChangeType {
  return CHANGE_TYPES.includes(value);
}

function checkExpiry(ctx: GraphContext, raw: string): Outcome<Date> {
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return fail(graphError(400, 'BadRequest', `Cannot convert '${raw}' to a DateTimeOffset.`));
  const maxMinutes = ctx.deps.subscriptionMaxMinutes;
  if (at > Date.now() + maxMinutes * 60_000) {
    return fail(
      graphError(400, 'InvalidRequest', `Subscription expiration can only be ${maxMinutes} minutes in the future.`),
    );
  }
  if (at <= Date.now()) {
    return fail(graphError(400, 'InvalidRequest', 'Subscription expiration must be in the future.'));
  }
  return ok(new Date(at));
}

// Graph requires https; plain http is allowed only to loopback so local tests need no certificates.
function acceptableUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))
    );
  } catch {
    return false;
  }
}

function extensionError(status: number, reason: string, detail: string): HttpReply {
  return graphError(
    status,
    'ExtensionError',
    `Operation: Create; Exception: [Status Code: ${reason}; Reason: ${detail}]`,
  );
}
