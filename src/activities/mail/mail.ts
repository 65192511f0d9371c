import { ApplicationFailure, Context, log } from '@temporalio/activity';
import {
  appendMailRequestLog,
  beginMailRequest,
  finishMailRequest,
  getInboundMail,
  updateInboundMail,
  type InboundMailRow,
  type MailTrigger,
} from '../../mail/db/mail-log';
import { getEffect, putEffect } from '../../platform/effects/effect-ledger';
import { getTicket } from '../../mail/db/tickets';
import { classifyGraphError, explainProblem } from '../../mail/graph/errors';
import { emitTicketEvent } from '../../mail/ticket-events';
import { getMessage, markRead, moveMessage, type GraphMessage } from '../../mail/graph/messages';
import type { MailboxProblemKind } from '../../mail/workflow-contract';
import { activityKey } from '../../platform/effects/activity-keys';
import { storeMail } from './ingest';
import { explainReadProblem, graphFor, requireMailbox, settle, type MailboxActivityDeps } from './support';

export type IngestOutcome =
  | {
      ok: true;
      status: 'ticket_created' | 'ticket_updated' | 'duplicate' | 'skipped';
      ticketId: string | null;
      postAction: boolean;
    }
  | { ok: false; final: boolean; kind: MailboxProblemKind | 'error'; error: string };

const addressOf = (m: GraphMessage) => m.from?.emailAddress?.address?.toLowerCase() ?? null;

/** Email-to-ticket steps: fetch and store, mark read or move, emit the ticket event, record a final failure. */
export function createMailActivities(deps: MailboxActivityDeps) {
  const { db, logger, settings } = deps;

  async function requireMail(mailId: string): Promise<InboundMailRow> {
    const mail = await getInboundMail(db, mailId);
    if (!mail) {
      throw ApplicationFailure.create({
        type: 'MailMissingError',
        message: `inbound mail ${mailId} no longer exists`,
        nonRetryable: true,
      });
    }
    return mail;
  }

  return {
    /**
     * One processing attempt ("request"): fetches the message with immutable ids, headers and
     * uniqueBody, then stores it as a new ticket, a ticket update, a duplicate or a skip.
     * Throttling and outages are thrown (retried by the activity policy, same request);
     * everything else comes back as a value the workflow counts against its attempts.
     */
    async ingestMail(mailId: string, attempt: number, trigger: MailTrigger): Promise<IngestOutcome> {
      // A re-run after a lost completion returns what the first execution stored: no second
      // Graph fetch, and the outcome (ticket created) is not turned into a "duplicate".
      const key = activityKey();
      const done = await getEffect<IngestOutcome>(db, key);
      if (done) {
        const tries = Context.current().info.attempt;
        const message = `re-run (try ${tries}): this request had already finished but Temporal never heard back; returned its stored outcome, nothing repeated`;
        await appendMailRequestLog(db, mailId, attempt, [{ at: new Date().toISOString(), message }]);
        return done.result;
      }
      const mail = await requireMail(mailId);
      const mailbox = await requireMailbox(db, mail.mailbox_id);
      const entries: Array<{ at: string; message: string }> = [];
      const note = (message: string) => entries.push({ at: new Date().toISOString(), message });
      await beginMailRequest(db, mailId, attempt, trigger);
      const tries = Context.current().info.attempt;
      if (tries > 1) note(`resumed: try ${tries} of this request (the previous try did not finish)`);
      else note(`request ${attempt} started (${trigger}); source: ${mail.source}`);

      let msg: GraphMessage;
      const g = graphFor(deps, mailbox);
      try {
        note(`GET ${g.userPath}/messages/{id} with Prefer: IdType="ImmutableId"`);
        msg = await getMessage(g, mail.graph_message_id);
      } catch (err) {
        const problem = classifyGraphError(err);
        if (problem.kind === 'throttled' || problem.kind === 'transient') {
          note(
            problem.kind === 'throttled'
              ? `Graph throttled the request: ${problem.message}`
              : `Graph unavailable: ${problem.message}`,
          );
          await appendMailRequestLog(db, mailId, attempt, entries);
        }
        // Throws for throttling (waiting for Retry-After) and outages; the activity policy retries.
        const settled = settle(err);
        if (settled.kind === 'not_found') {
          note('the message no longer exists in the mailbox (deleted or moved before processing)');
          await finishMailRequest(db, mailId, attempt, { status: 'succeeded', log: entries });
          await updateInboundMail(db, mailId, {
            status: 'skipped',
            outcome: 'skipped: message no longer in the mailbox',
            error: null,
            processed_at: new Date(),
          });
          return { ok: true, status: 'skipped', ticketId: null, postAction: false };
        }
        const error = explainReadProblem(settled, mailbox, g);
        note(`failed: ${error}`);
        await finishMailRequest(db, mailId, attempt, { status: 'failed', error, log: entries });
        await updateInboundMail(db, mailId, { status: 'retrying', error });
        const kind = settled.kind === 'sync_reset' ? 'bad_request' : settled.kind;
        // Credentials and permissions do not fix themselves within seconds: stop this run.
        const final = ['credentials_rejected', 'reauthorization_required', 'forbidden'].includes(kind);
        return { ok: false, final, kind, error };
      }

      note(
        `fetched: "${msg.subject ?? ''}" from ${addressOf(msg) ?? 'unknown sender'}, ${msg.internetMessageId ?? 'no Message-ID'}`,
      );
      await updateInboundMail(db, mailId, {
        subject: msg.subject ?? null,
        from_address: addressOf(msg),
        from_name: msg.from?.emailAddress?.name ?? null,
        internet_message_id: msg.internetMessageId ?? null,
        conversation_id: msg.conversationId ?? null,
        received_at: msg.receivedDateTime ? new Date(msg.receivedDateTime) : null,
      });
      try {
        const stored = await storeMail(db, mailbox, mail, msg, note);
        await finishMailRequest(db, mailId, attempt, { status: 'succeeded', raw: msg, log: entries });
        await updateInboundMail(db, mailId, {
          status: stored.status,
          ticket_id: stored.ticketId,
          outcome: stored.outcome,
          error: null,
          next_retry_at: null,
          processed_at: new Date(),
        });
        const outcome: IngestOutcome = { ok: true, status: stored.status, ticketId: stored.ticketId, postAction: true };
        await putEffect(db, key, outcome);
        return outcome;
      } catch (err) {
        // A database failure: keep what we fetched and let the activity policy retry.
        note(`could not store the message: ${err instanceof Error ? err.message : String(err)}`);
        await appendMailRequestLog(db, mailId, attempt, entries).catch(() => undefined);
        throw err;
      }
    },

    /**
     * Follow-ups once the email is stored, both idempotent: marks the message read or moves it, as
     * the mailbox is configured (a failure is recorded, not fatal: the ticket exists), and emits
     * "New Ticket Logged" or "Ticket Changed" once per email.
     */
    async finishMail(mailId: string, postAction: boolean): Promise<{ postAction: string; eventId: string | null }> {
      const key = activityKey();
      const finished = await getEffect<{ postAction: string; eventId: string | null }>(db, key);
      if (finished) return finished.result;
      const mail = await requireMail(mailId);
      const mailbox = await requireMailbox(db, mail.mailbox_id);
      let done = 'left as it is';
      if (postAction && mailbox.after_processing !== 'none' && !mail.post_action) {
        const g = graphFor(deps, mailbox);
        try {
          if (mailbox.after_processing === 'move' && mailbox.move_to_folder) {
            await moveMessage(g, mail.graph_message_id, mailbox.move_to_folder);
            done = `moved to ${mailbox.move_to_folder}`;
          } else {
            await markRead(g, mail.graph_message_id);
            done = 'marked read';
          }
          await updateInboundMail(db, mailId, { post_action: done, post_action_error: null });
        } catch (err) {
          const problem = settle(err);
          const target = mailbox.shared_mailbox ?? mailbox.email_address ?? mailbox.name;
          done = `not done: ${explainProblem(problem, { access: 'write', method: mailbox.method, shared: g.shared, mailbox: target })}`;
          await updateInboundMail(db, mailId, { post_action_error: done });
        }
      }
      if (!mail.ticket_id || (mail.status !== 'ticket_created' && mail.status !== 'ticket_updated'))
        return { postAction: done, eventId: null };
      const ticket = await getTicket(db, mail.ticket_id);
      if (!ticket) return { postAction: done, eventId: null };
      const ctx = Context.current();
      const eventId = await emitTicketEvent(
        { db, temporal: ctx.client, taskQueue: ctx.info.taskQueue },
        ticket,
        mail.status === 'ticket_created' ? 'created' : 'updated',
        `inbound-mail:${mail.id}`,
      );
      await updateInboundMail(db, mailId, { event_id: eventId });
      await putEffect(db, key, { postAction: done, eventId });
      return { postAction: done, eventId };
    },

    /**
     * Records that a run used up its attempts: the email waits for the scheduler's next retry, or,
     * when none remain, has failed for good (the caller then notifies).
     */
    async finishMailRun(
      mailId: string,
      error: string,
      trigger: MailTrigger,
    ): Promise<{ notify: boolean; retryAt: string | null }> {
      const mail = await requireMail(mailId);
      const left = mail.scheduler_retries_left;
      const used = settings.schedulerRetries - left;
      const retryAt = left > 0 ? new Date(Date.now() + settings.schedulerRetryBaseMs * 2 ** Math.max(0, used)) : null;
      await updateInboundMail(db, mailId, {
        status: 'failed',
        error,
        next_retry_at: retryAt,
        processed_at: new Date(),
      });
      logger.warn({ mailId, mailboxId: mail.mailbox_id, retryAt }, 'inbound mail failed');
      log.warn('email processing failed', { mailId, retryAt: retryAt?.toISOString() ?? null });
      return { notify: retryAt === null || trigger === 'manual', retryAt: retryAt?.toISOString() ?? null };
    },
  };
}
