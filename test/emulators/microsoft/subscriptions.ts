import type { MailChange } from './mail-store';
import type { ChangeNotification } from './notifier';

export type ChangeType = 'created' | 'updated' | 'deleted';

/** A Graph change-notification subscription on a mailbox's messages. */
export interface Subscription {
  id: string;
  applicationId: string;
  tenantId: string;
  creatorId: string;
  /** The resource exactly as the client wrote it. */
  resource: string;
  mailboxUserId: string;
  /** `null` for `users/{id}/messages` (every folder). */
  folderId: string | null;
  changeTypes: ChangeType[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expirationDateTime: Date;
  /** Set from `Prefer: IdType="ImmutableId"` at creation; notifications then carry immutable ids. */
  immutableIds: boolean;
  latestSupportedTlsVersion: string;
  reauthorizationRequired: boolean;
}

/** Subscriptions by id; an expired subscription disappears the moment anyone looks for it. */
export class SubscriptionStore {
  private readonly byId = new Map<string, Subscription>();

  add(subscription: Subscription): void {
    this.byId.set(subscription.id, subscription);
  }

  get(id: string): Subscription | undefined {
    const subscription = this.byId.get(id);
    if (subscription && subscription.expirationDateTime.getTime() <= Date.now()) {
      this.byId.delete(id);
      return undefined;
    }
    return subscription;
  }

  delete(id: string): boolean {
    return this.byId.delete(id);
  }

  active(): Subscription[] {
    return [...this.byId.keys()].map((id) => this.get(id)).filter((s): s is Subscription => s !== undefined);
  }

  /** Builds one notification per subscription the change concerns, with the change type each should see. */
  notificationsFor(change: MailChange): Array<{ url: string; item: ChangeNotification }> {
    const out: Array<{ url: string; item: ChangeNotification }> = [];
    for (const subscription of this.active()) {
      if (subscription.mailboxUserId !== change.message.mailboxUserId) continue;
      const seen = changeSeenBy(subscription, change);
      if (!seen || !subscription.changeTypes.includes(seen.changeType)) continue;
      out.push({
        url: subscription.notificationUrl,
        item: notification(subscription, seen.changeType, seen.id, change),
      });
    }
    return out;
  }
}

/** How a folder-scoped subscription sees a move: leaving its folder is a delete, arriving is a create. */
function changeSeenBy(subscription: Subscription, change: MailChange): { changeType: ChangeType; id: string } | null {
  const id = subscription.immutableIds ? change.message.immutableId : change.message.restId;
  if (change.kind !== 'moved') {
    return subscription.folderId === null || subscription.folderId === change.folderId
      ? { changeType: change.kind, id }
      : null;
  }
  if (subscription.folderId === null) return { changeType: 'updated', id };
  if (subscription.folderId === change.fromFolderId) {
    return { changeType: 'deleted', id: subscription.immutableIds ? id : change.previousRestId };
  }
  return subscription.folderId === change.folderId ? { changeType: 'created', id } : null;
}

function notification(
  subscription: Subscription,
  changeType: ChangeType,
  messageId: string,
  change: MailChange,
): ChangeNotification {
  const resource = `Users/${subscription.mailboxUserId}/Messages/${messageId}`;
  return {
    subscriptionId: subscription.id,
    subscriptionExpirationDateTime: subscription.expirationDateTime.toISOString(),
    changeType,
    resource,
    resourceData: {
      '@odata.type': '#Microsoft.Graph.Message',
      '@odata.id': resource,
      '@odata.etag': `W/"${change.message.changeKey}"`,
      id: messageId,
    },
    clientState: subscription.clientState,
    tenantId: subscription.tenantId,
  };
}

/** The subscription resource as Graph returns it (callers add `@odata.context` for single entities). */
export function renderSubscription(subscription: Subscription): Record<string, unknown> {
  return {
    id: subscription.id,
    resource: subscription.resource,
    applicationId: subscription.applicationId,
    changeType: subscription.changeTypes.join(','),
    clientState: subscription.clientState,
    notificationUrl: subscription.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: subscription.lifecycleNotificationUrl,
    expirationDateTime: subscription.expirationDateTime.toISOString(),
    creatorId: subscription.creatorId,
    includeResourceData: null,
    latestSupportedTlsVersion: subscription.latestSupportedTlsVersion,
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
  };
}
