import { Context } from '@temporalio/activity';
import { createAttachmentActivities } from './attachments';
import { createMailActivities } from './mail';
import { createNotifyActivities } from './notify';
import { createSubscriptionActivities } from './subscription';
import type { MailboxActivityDeps } from './support';
import { createSyncActivities } from './sync';

export type { MailboxActivityDeps } from './support';

/** How often a running mailbox activity tells Temporal it is alive (workflows use a 15 s heartbeat timeout). */
export const HEARTBEAT_EVERY_MS = 3000;

/**
 * Wraps each activity so it heartbeats while it runs. Graph calls may legitimately wait out a
 * Retry-After, so start-to-close timeouts are generous; heartbeats are what notice a dead worker
 * within seconds and hand the email to another one.
 */
function heartbeating<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      const ctx = Context.current();
      const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await fn(...args);
      } finally {
        clearInterval(timer);
      }
    };
  }
  return wrapped as T;
}

/** Every mailbox activity: subscriptions, delta sync, email processing and notifications. */
export function createMailboxActivities(deps: MailboxActivityDeps) {
  return heartbeating({
    ...createSubscriptionActivities(deps),
    ...createSyncActivities(deps),
    ...createMailActivities(deps),
    ...createAttachmentActivities(deps),
    ...createNotifyActivities(deps),
  });
}

export type MailboxActivities = ReturnType<typeof createMailboxActivities>;
