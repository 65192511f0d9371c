/**
 * How long a mailbox's Graph subscription lives and when it is renewed: the one place these rules
 * live. `src/activities/mail/subscription.ts` applies them on every create and renew (it reads the
 * worker's current settings, so a changed setting reaches running mailboxes), and
 * `src/workflows/mail/mailbox.ts` sleeps until the renewal time they give.
 *
 * Lifetime: Graph caps how far in the future a mail subscription may expire. Its documentation
 * has said 4,230 minutes (about 2.9 days) and 10,080 (7 days); live tenants answer "can only be
 * 10070 minutes in the future". We ask for `MAILBOX_SUBSCRIPTION_MINUTES` (10070); when Graph names
 * a lower ceiling, `graph/subscriptions.ts` retries at it and the mailbox remembers it
 * (`subscription_max_minutes`), so later requests ask for no more.
 *
 * Renewal, the 2-day rule: a subscription is renewed once it is within `MAILBOX_RENEW_BEFORE`
 * (default 2 days) of its expiry, but never closer than half its remaining lifetime away, or a
 * lifetime shorter than the window (4,230 minutes is under 2 × 2 days) would renew in a tight loop.
 */
import type { MailboxWorkflowSettings } from './workflow-contract';
import type { MailSettings } from './settings';

/** The lifetime to ask Graph for: the configured one, or the lower ceiling Graph named for this mailbox. */
export function subscriptionLifetimeMinutes(
  settings: Pick<MailSettings, 'subscriptionMinutes'>,
  learntCeilingMinutes: number | null,
): number {
  return Math.min(learntCeilingMinutes ?? Infinity, settings.subscriptionMinutes);
}

/** When a subscription expiring at `expiresAt` is renewed, seen at `now` (the 2-day rule). */
export function renewalDueAt(
  settings: Pick<MailSettings, 'renewBeforeMs'>,
  expiresAt: string,
  now: number = Date.now(),
): string {
  const expires = Date.parse(expiresAt);
  return new Date(Math.max(expires - settings.renewBeforeMs, now + (expires - now) / 2)).toISOString();
}

/** The timings the mailbox workflow paces itself by, from the current settings. */
export function mailboxTimings(settings: MailSettings): MailboxWorkflowSettings {
  return {
    renewBeforeMs: settings.renewBeforeMs,
    retryDelayMs: settings.retryDelayMs,
    sweepIntervalMs: settings.sweepIntervalMs,
    maxCyclesPerRun: settings.maxCyclesPerRun,
  };
}
