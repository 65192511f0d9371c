import { randomUUID } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import { replyAttachments } from './reply-attachments';
import { getMailbox, getOutgoingDefault, insertNotification, updateNotification } from '../../mail/db/mailboxes';
import { getTicket, getTicketMessage, latestInbound, setTicketMessageStatus } from '../../mail/db/tickets';
import { explainProblem } from '../../mail/graph/errors';
import { emitMailboxErrorEvent } from '../../mail/ticket-events';
import { replyTo, sendMail } from '../../mail/graph/messages';
import { ORIGIN_HEADER, subjectWithToken, TICKET_HEADER } from '../../mail/threading';
import { graphFor, settle, type MailboxActivityDeps } from './support';
import { createSendOnce } from '../../platform/effects/send-once';

/**
 * An email's idempotency key: the forward's `Idempotency-Key` convention, under the `x-` name
 * Graph requires of custom internet message headers.
 */
export const EMAIL_IDEMPOTENCY_HEADER = 'X-Idempotency-Key';

/** Why people are told about a mailbox. */
export type NoticeKind =
  'processing_failed' | 'subscription_failed' | 'credentials_rejected' | 'reauthorization_required';

export interface MailboxNotice {
  kind: NoticeKind;
  detail: string;
  /** For processing failures: the email and the attempt that failed, so each failure is told once. */
  mailId?: string;
  attempt?: number;
}

const TITLES: Record<NoticeKind, string> = {
  processing_failed: 'an email could not be processed',
  subscription_failed: 'the Microsoft Graph subscription could not be created or renewed',
  credentials_rejected: "Microsoft rejected the app's client secret or credentials",
  reauthorization_required: 'the delegated sign-in must be authorized again',
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Renders plain text as HTML paragraphs (replies typed by agents, notification details). */
export function textToHtml(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

const ourHeaders = (ticketNumber?: string) => [
  { name: ORIGIN_HEADER, value: 'switchyard' },
  ...(ticketNumber ? [{ name: TICKET_HEADER, value: ticketNumber }] : []),
];

/** Error notifications (email through the outgoing default mailbox, and an event) and ticket replies. */
export function createNotifyActivities(deps: MailboxActivityDeps) {
  const { db, settings } = deps;

  /** Sends through the outgoing default mailbox: sent, skipped (nothing to send with) or failed, with why. */
  async function sendFromDefault(
    mail: Parameters<typeof sendMail>[1],
  ): Promise<{ status: 'sent' | 'skipped' | 'failed'; error: string | null }> {
    if (mail.to.length === 0) return { status: 'skipped', error: 'no error recipients are configured' };
    const sender = await getOutgoingDefault(db);
    if (!sender) return { status: 'skipped', error: 'no outgoing default mailbox is configured' };
    const g = graphFor(deps, sender);
    try {
      await sendMail(g, mail);
      return { status: 'sent', error: null };
    } catch (err) {
      const problem = settle(err);
      return {
        status: 'failed',
        error: explainProblem(problem, {
          access: 'send',
          method: sender.method,
          shared: g.shared,
          mailbox: sender.name,
        }),
      };
    }
  }

  return {
    /**
     * Tells the mailbox's chosen recipients about a problem, once per email attempt for processing
     * failures and at most once per cooldown period for the others, by email and as an event.
     */
    async notifyMailbox(mailboxId: string, notice: MailboxNotice): Promise<{ email: string; event: string }> {
      const mailbox = await getMailbox(db, mailboxId);
      if (!mailbox) return { email: 'skipped', event: 'skipped' };
      const bucket = Math.floor(Date.now() / settings.notifyCooldownMs);
      const key =
        notice.kind === 'processing_failed'
          ? `processing_failed:${notice.mailId ?? ''}:${notice.attempt ?? 0}`
          : `${notice.kind}:${mailboxId}:${bucket}`;
      const subject = `[Switchyard] Mailbox "${mailbox.name}": ${TITLES[notice.kind]}`;
      const { row } = await insertNotification(db, {
        id: randomUUID(),
        mailbox_id: mailboxId,
        kind: notice.kind,
        dedupe_key: key,
        subject,
        message: notice.detail,
        recipients: mailbox.error_recipients,
      });

      if (row.email_status === 'pending') {
        // Through the effect ledger, keyed by the notification: a worker killed after Graph took
        // the email but before it is recorded re-sends it with the same key, never a new one.
        const sendOnce = createSendOnce({ db, attempt: 1, note: (message) => log.info(message, { mailboxId }) });
        const sent = await sendOnce(`email:${row.id}`, {
          target: `email to ${row.recipients.length} recipient(s)`,
          send: (key) =>
            sendFromDefault({
              subject,
              html: textToHtml(
                `Mailbox: ${mailbox.name} (${mailbox.email_address ?? mailbox.connected_account ?? mailbox.method})\n\n${notice.detail}`,
              ),
              to: row.recipients,
              headers: [...ourHeaders(), { name: EMAIL_IDEMPOTENCY_HEADER, value: key }],
            }),
          delivered: (r) => r.status === 'sent',
        });
        await updateNotification(db, row.id, { email_status: sent.status, email_error: sent.error });
        row.email_status = sent.status;
      }
      if (row.event_status === 'pending') {
        const ctx = Context.current();
        const eventId = await emitMailboxErrorEvent(
          { db, temporal: ctx.client, taskQueue: ctx.info.taskQueue },
          { mailboxId, mailboxName: mailbox.name, kind: notice.kind, message: notice.detail, notificationId: row.id },
        );
        row.event_status = eventId ? 'emitted' : 'skipped';
        await updateNotification(db, row.id, { event_status: row.event_status, event_id: eventId });
      }
      log.info('mailbox notification', {
        mailboxId,
        kind: notice.kind,
        email: row.email_status,
        event: row.event_status,
      });
      return { email: row.email_status, event: row.event_status };
    },

    /**
     * Sends an agent's reply from the outgoing default mailbox: as a Graph reply when the ticket's
     * last email reached that mailbox (Exchange then threads it), otherwise as a new email.
     */
    async sendTicketReply(ticketMessageId: string): Promise<{ ok: boolean; error: string | null }> {
      const message = await getTicketMessage(db, ticketMessageId);
      if (!message || message.status === 'sent') return { ok: true, error: null };
      const ticket = await getTicket(db, message.ticket_id);
      if (!ticket) return { ok: false, error: 'the ticket was deleted' };
      const sender = await getOutgoingDefault(db);
      if (!sender) {
        await setTicketMessageStatus(db, message.id, 'failed', 'no outgoing default mailbox is configured');
        return { ok: false, error: 'no outgoing default mailbox is configured' };
      }
      const g = graphFor(deps, sender);
      const subject = subjectWithToken(`RE: ${ticket.summary.replace(/^(re|fw|fwd):\s*/i, '')}`, Number(ticket.number));
      const html = message.body_type === 'html' ? message.body : textToHtml(message.body);
      const original = await latestInbound(db, ticket.id);
      const to = message.to_addresses.map((a) => a.address).filter(Boolean);
      const attachments = await replyAttachments(db, message.id);
      // Through the effect ledger, like the forward: a worker killed after Graph took the reply
      // but before it is marked sent re-sends it with the same key, never a new one.
      const sendOnce = createSendOnce({ db, attempt: 1, note: (note) => log.info(note, { ticketMessageId }) });
      const sent = await sendOnce('reply', {
        target: `reply on ticket ${ticket.number}`,
        send: async (key): Promise<{ ok: boolean; error: string | null }> => {
          const headers = [...ourHeaders(ticket.number), { name: EMAIL_IDEMPOTENCY_HEADER, value: key }];
          try {
            if (original?.mailbox_id === sender.id && original.graph_message_id) {
              await replyTo(g, original.graph_message_id, { subject, html, headers, attachments });
            } else {
              await sendMail(g, { subject, html, to, headers, attachments });
            }
            return { ok: true, error: null };
          } catch (err) {
            const problem = settle(err);
            const error = explainProblem(problem, {
              access: 'send',
              method: sender.method,
              shared: g.shared,
              mailbox: sender.name,
            });
            return { ok: false, error };
          }
        },
        delivered: (r) => r.ok,
      });
      await setTicketMessageStatus(db, message.id, sent.ok ? 'sent' : 'failed', sent.error);
      return sent;
    },
  };
}
