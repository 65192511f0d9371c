import type { MailboxGraph } from './graph-client';
import { classifyGraphError, parseExpiryCeilingMinutes } from './errors';
import { IMMUTABLE_IDS } from './messages';

export interface GraphSubscription {
  id: string;
  resource: string;
  expirationDateTime: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string | null;
}

export interface SubscriptionRequest {
  resource: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  clientState: string;
}

/** Result of an expiry-bearing call, with the lifetime Graph actually accepted. */
export interface WithLifetime<T> {
  value: T;
  /** The minutes requested in the successful call (lower than asked when Graph reported a ceiling). */
  minutes: number;
}

const expiry = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/**
 * Calls `send` with the requested lifetime; when Graph answers "expiration can only be N minutes
 * in the future", retries once at that ceiling. Sources disagree on the ceiling, so it is learnt.
 */
async function withCeiling<T>(
  minutes: number,
  send: (expirationDateTime: string) => Promise<T>,
): Promise<WithLifetime<T>> {
  try {
    return { value: await send(expiry(minutes)), minutes };
  } catch (err) {
    const problem = classifyGraphError(err);
    const ceiling = problem.kind === 'bad_request' ? parseExpiryCeilingMinutes(problem.message) : null;
    if (ceiling === null || ceiling >= minutes) throw err;
    return { value: await send(expiry(ceiling)), minutes: ceiling };
  }
}

export function createSubscription(
  g: MailboxGraph,
  request: SubscriptionRequest,
  minutes: number,
): Promise<WithLifetime<GraphSubscription>> {
  return withCeiling(minutes, (expirationDateTime) =>
    g.call(
      (c) =>
        c
          .api('/subscriptions')
          // Notifications then carry immutable ids, the same ones every later call uses.
          .header('Prefer', IMMUTABLE_IDS)
          .post({
            changeType: 'created',
            notificationUrl: request.notificationUrl,
            lifecycleNotificationUrl: request.lifecycleNotificationUrl,
            resource: request.resource,
            expirationDateTime,
            clientState: request.clientState,
            latestSupportedTlsVersion: 'v1_2',
          }) as Promise<GraphSubscription>,
    ),
  );
}

export function renewSubscription(
  g: MailboxGraph,
  id: string,
  minutes: number,
): Promise<WithLifetime<GraphSubscription>> {
  return withCeiling(minutes, (expirationDateTime) =>
    g.call(
      (c) =>
        c.api(`/subscriptions/${encodeURIComponent(id)}`).patch({ expirationDateTime }) as Promise<GraphSubscription>,
    ),
  );
}

export async function reauthorizeSubscription(g: MailboxGraph, id: string): Promise<void> {
  await g.call((c) => c.api(`/subscriptions/${encodeURIComponent(id)}/reauthorize`).post({}));
}

export async function getSubscription(g: MailboxGraph, id: string): Promise<GraphSubscription> {
  return g.call((c) => c.api(`/subscriptions/${encodeURIComponent(id)}`).get() as Promise<GraphSubscription>);
}

export async function deleteSubscription(g: MailboxGraph, id: string): Promise<void> {
  await g.call((c) => c.api(`/subscriptions/${encodeURIComponent(id)}`).delete());
}

/** The resource a webhooks mailbox subscribes to: new messages in its inbox. */
export function inboxResource(address: string): string {
  return `users/${address}/mailFolders('inbox')/messages`;
}
