import { randomBytes } from 'node:crypto';
import { log } from '@temporalio/activity';
import { updateMailbox, type MailboxRow } from '../../mail/db/mailboxes';
import { explainProblem } from '../../mail/graph/errors';
import { mailboxAad } from '../../mail/graph/msal';
import { notificationUrls } from '../../mail/settings';
import { mailboxTimings, renewalDueAt, subscriptionLifetimeMinutes } from '../../mail/subscription-renewal';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  inboxResource,
  reauthorizeSubscription,
  renewSubscription,
} from '../../mail/graph/subscriptions';
import type { CancelOutcome, MailboxWorkflowSettings, SubscriptionOutcome } from '../../mail/workflow-contract';
import { graphFor, requireMailbox, settle, type MailboxActivityDeps, type SettledProblem } from './support';

const iso = (d: Date | string) => new Date(d).toISOString();

/** Subscription lifecycle against Graph; each records what it learnt on the mailbox row. */
export function createSubscriptionActivities(deps: MailboxActivityDeps) {
  const { db, secrets, settings } = deps;

  const failed = async (mailbox: MailboxRow, problem: SettledProblem): Promise<SubscriptionOutcome> => {
    const message = explainProblem(problem, {
      access: 'read',
      method: 'webhooks',
      shared: false,
      mailbox: mailbox.email_address ?? mailbox.name,
    });
    await updateMailbox(db, mailbox.id, {
      subscription_error: message,
      last_error: message,
      last_error_at: new Date(),
    });
    const kind = problem.kind === 'sync_reset' ? 'bad_request' : problem.kind;
    return { ok: false, kind, message };
  };

  // Kept across re-creations so notifications still in flight from a replaced subscription verify.
  const clientStateOf = async (mailbox: MailboxRow): Promise<string> => {
    if (mailbox.client_state_enc) return secrets.decrypt(mailbox.client_state_enc, mailboxAad.clientState(mailbox.id));
    const state = randomBytes(48).toString('base64url');
    await updateMailbox(db, mailbox.id, {
      client_state_enc: secrets.encrypt(state, mailboxAad.clientState(mailbox.id)),
    });
    return state;
  };

  const lifetime = (mailbox: MailboxRow) => subscriptionLifetimeMinutes(settings, mailbox.subscription_max_minutes);
  /** A live subscription, with when to renew it by the current settings. */
  const active = (subscriptionId: string, expirationDateTime: string, created: boolean): SubscriptionOutcome => {
    const expiresAt = iso(expirationDateTime);
    return { ok: true, subscriptionId, expiresAt, created, renewAt: renewalDueAt(settings, expiresAt) };
  };

  /** Extends the subscription to the longest lifetime Graph accepts; `not_found` means recreate. */
  const renew = async (mailboxId: string): Promise<SubscriptionOutcome> => {
    const mailbox = await requireMailbox(db, mailboxId);
    if (!mailbox.subscription_id) return { ok: false, kind: 'not_found', message: 'no subscription recorded' };
    try {
      const renewed = await renewSubscription(graphFor(deps, mailbox), mailbox.subscription_id, lifetime(mailbox));
      await db.query(
        `UPDATE mailboxes SET subscription_expires_at = $2, subscription_renewed_at = now(), subscription_status = 'active',
           subscription_renewals = subscription_renewals + 1, subscription_max_minutes = $3, subscription_error = NULL,
           updated_at = now() WHERE id = $1`,
        [mailboxId, new Date(renewed.value.expirationDateTime), renewed.minutes],
      );
      return active(mailbox.subscription_id, renewed.value.expirationDateTime, false);
    } catch (err) {
      const problem = settle(err);
      if (problem.kind === 'not_found') return { ok: false, kind: 'not_found', message: problem.message };
      return failed(mailbox, problem);
    }
  };

  return {
    /**
     * Makes sure the mailbox has a live subscription: reuses the recorded one when Graph still
     * knows it (unless `replace`), otherwise creates one at the longest lifetime Graph accepts.
     */
    async ensureMailboxSubscription(mailboxId: string, replace: boolean): Promise<SubscriptionOutcome> {
      const mailbox = await requireMailbox(db, mailboxId);
      if (mailbox.method !== 'webhooks' || !mailbox.email_address) {
        return { ok: false, kind: 'wrong_method', message: 'Only webhooks mailboxes have subscriptions' };
      }
      const g = graphFor(deps, mailbox);
      if (!replace && mailbox.subscription_id) {
        try {
          const existing = await getSubscription(g, mailbox.subscription_id);
          await updateMailbox(db, mailbox.id, {
            subscription_status: 'active',
            subscription_expires_at: new Date(existing.expirationDateTime),
            subscription_error: null,
          });
          return active(existing.id, existing.expirationDateTime, false);
        } catch (err) {
          const problem = settle(err);
          if (problem.kind !== 'not_found') return failed(mailbox, problem);
        }
      }
      const clientState = await clientStateOf(mailbox);
      await updateMailbox(db, mailbox.id, { subscription_status: 'creating' });
      let created;
      try {
        created = await createSubscription(
          g,
          { resource: inboxResource(mailbox.email_address), clientState, ...notificationUrls(settings, mailbox.id) },
          lifetime(mailbox),
        );
      } catch (err) {
        const outcome = await failed(mailbox, settle(err));
        await updateMailbox(db, mailbox.id, { subscription_status: 'failed' });
        return outcome;
      }
      const previous = mailbox.subscription_id;
      const sub = created.value;
      await updateMailbox(db, mailbox.id, {
        subscription_id: sub.id,
        subscription_resource: sub.resource,
        subscription_status: 'active',
        subscription_expires_at: new Date(sub.expirationDateTime),
        subscription_created_at: new Date(),
        subscription_max_minutes: created.minutes,
        subscription_error: null,
        process_since: mailbox.process_since ?? new Date(),
      });
      if (previous && previous !== sub.id) {
        // Two live subscriptions would deliver every email twice (harmless, but wasteful).
        await deleteSubscription(g, previous).catch(() => undefined);
      }
      log.info('subscription created', { mailboxId, subscriptionId: sub.id, minutes: created.minutes });
      return active(sub.id, sub.expirationDateTime, true);
    },

    renewMailboxSubscription: renew,

    /** The mailbox workflow's timings from this worker's settings, read at every wake of the workflow. */
    async mailboxTimings(): Promise<MailboxWorkflowSettings> {
      return mailboxTimings(settings);
    },

    /** Answers a reauthorizationRequired challenge, then renews (Graph accepts either; we do both). */
    async reauthorizeMailboxSubscription(mailboxId: string): Promise<SubscriptionOutcome> {
      const mailbox = await requireMailbox(db, mailboxId);
      if (!mailbox.subscription_id) return { ok: false, kind: 'not_found', message: 'no subscription recorded' };
      try {
        await reauthorizeSubscription(graphFor(deps, mailbox), mailbox.subscription_id);
      } catch (err) {
        const problem = settle(err);
        if (problem.kind === 'not_found') return { ok: false, kind: 'not_found', message: problem.message };
        return failed(mailbox, problem);
      }
      return renew(mailboxId);
    },

    /** Deletes the subscription at Graph (gone already counts as deleted) and forgets it. */
    async deleteMailboxSubscription(mailboxId: string): Promise<CancelOutcome> {
      const mailbox = await requireMailbox(db, mailboxId);
      let deleted = false;
      let message = 'no subscription was recorded';
      if (mailbox.subscription_id) {
        try {
          await deleteSubscription(graphFor(deps, mailbox), mailbox.subscription_id);
          deleted = true;
          message = `subscription ${mailbox.subscription_id} deleted`;
        } catch (err) {
          const problem = settle(err);
          message =
            problem.kind === 'not_found'
              ? `subscription ${mailbox.subscription_id} was already gone`
              : `could not delete subscription ${mailbox.subscription_id} (it will lapse at its expiry): ${problem.message}`;
        }
      }
      await updateMailbox(db, mailboxId, { subscription_status: 'cancelled', subscription_error: null });
      await db.query(
        'UPDATE mailboxes SET subscription_id = NULL, subscription_expires_at = NULL, updated_at = now() WHERE id = $1',
        [mailboxId],
      );
      return { ok: true, deleted, message };
    },
  };
}
