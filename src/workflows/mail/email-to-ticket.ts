import { ActivityFailure, ApplicationFailure, log, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { MailboxActivities } from '../../activities/mail';
import type { IngestOutcome } from '../../activities/mail/mail';
import type { EmailToTicketInput, EmailToTicketResult, TicketReplyInput } from '../../mail/workflow-contract';

const MISSING = ['MailMissingError', 'MailboxMissingError'];

// Graph throttling (with Retry-After as the next delay) and outages are retried here, within one
// business attempt; after ~10 minutes of that the attempt counts as failed.
const { ingestMail, finishMail, finishMailRun, notifyMailbox, sendTicketReply } = proxyActivities<MailboxActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '15s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 15,
    nonRetryableErrorTypes: MISSING,
  },
});

// Attachments are fetched after the ticket exists; a large one may take a while to stream.
const { storeMailAttachments } = proxyActivities<MailboxActivities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '30s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: MISSING,
  },
});

const missing = (err: unknown) =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && MISSING.includes(err.cause.type ?? '');

/**
 * `mail:<mailboxId>:<immutableMessageId>` — turns one email into a ticket or a ticket update.
 * Business attempts are counted here with backoff between them; a run that uses them up leaves
 * the email to the scheduler's later retries, and tells people when none remain.
 */
export async function emailToTicket(input: EmailToTicketInput): Promise<EmailToTicketResult> {
  const last = input.firstAttempt + input.maxAttempts - 1;
  let failure: Extract<IngestOutcome, { ok: false }> = {
    ok: false,
    final: false,
    kind: 'error',
    error: 'not attempted',
  };
  let attempt = input.firstAttempt;
  for (; attempt <= last; attempt++) {
    let outcome: IngestOutcome;
    try {
      outcome = await ingestMail(input.mailId, attempt, input.trigger);
    } catch (err) {
      if (missing(err)) return { status: 'skipped', attempts: attempt, ticketId: null };
      outcome = { ok: false, final: false, kind: 'error', error: err instanceof Error ? err.message : String(err) };
    }
    if (outcome.ok) {
      if ((outcome.status === 'ticket_created' || outcome.status === 'ticket_updated') && patched('mail-attachments')) {
        await storeMailAttachments(input.mailId).catch((err: unknown) => log.warn('attachments not stored', { err }));
      }
      // The ticket is stored; marking read and the event are follow-ups whose failure loses nothing.
      await finishMail(input.mailId, outcome.postAction).catch((err: unknown) => log.warn('follow-up failed', { err }));
      return { status: outcome.status, attempts: attempt, ticketId: outcome.ticketId };
    }
    failure = outcome;
    log.warn('email processing attempt failed', { attempt, kind: outcome.kind, error: outcome.error });
    if (outcome.final || attempt === last) break;
    await sleep(`${input.retryInitialSeconds * 2 ** (attempt - input.firstAttempt)}s`);
  }

  const { notify } = await finishMailRun(input.mailId, failure.error, input.trigger);
  if (failure.kind === 'credentials_rejected' || failure.kind === 'reauthorization_required') {
    await notifyMailbox(input.mailboxId, { kind: failure.kind, detail: failure.error });
  }
  if (notify) {
    await notifyMailbox(input.mailboxId, {
      kind: 'processing_failed',
      detail: failure.error,
      mailId: input.mailId,
      attempt: Math.min(attempt, last),
    });
  }
  return { status: 'failed', attempts: Math.min(attempt, last), ticketId: null };
}

/** `ticket-reply:<ticketId>:<messageId>` — sends an agent's reply through the outgoing default mailbox. */
export async function ticketReply(input: TicketReplyInput): Promise<{ ok: boolean; error: string | null }> {
  return sendTicketReply(input.ticketMessageId);
}
