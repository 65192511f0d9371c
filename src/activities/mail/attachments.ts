import { ApplicationFailure, Context, log } from '@temporalio/activity';
import {
  attachmentsOfMessage,
  recordSkippedAttachment,
  storeAttachmentStream,
  type NewAttachment,
} from '../../mail/db/attachments';
import { getInboundMail } from '../../mail/db/mail-log';
import type { Queryable } from '../../platform/db/pool';
import type { TicketMessageRow } from '../../mail/db/tickets';
import {
  isFileAttachment,
  listAttachments,
  MalformedAttachmentError,
  readAttachment,
  type GraphAttachmentMeta,
} from '../../mail/graph/attachments';
import { classifyGraphError } from '../../mail/graph/errors';
import { ResponseTooLargeError } from '../../mail/graph/safe-transport';
import { formatBytes } from '../../mail/format-bytes';
import { graphFor, requireMailbox, settle, type MailboxActivityDeps } from './support';

export interface AttachmentsOutcome {
  stored: number;
  skipped: number;
  bytes: number;
  /** Why nothing was fetched, when nothing was. */
  note: string | null;
}

async function storedMessageOf(db: Queryable, mailId: string): Promise<TicketMessageRow | undefined> {
  const { rows } = await db.query<TicketMessageRow>(
    `SELECT * FROM ticket_messages WHERE inbound_mail_id = $1 AND direction = 'inbound' LIMIT 1`,
    [mailId],
  );
  return rows[0];
}

/**
 * Whether the message may have attachments. Graph's hasAttachments is false for a message whose
 * only attachments are inline images, so a body referring to `cid:` counts too.
 */
async function mayHaveAttachments(db: Queryable, mailId: string, message: TicketMessageRow): Promise<boolean> {
  if (/cid:/i.test(message.body)) return true;
  const { rows } = await db.query<{ has: boolean | null }>(
    `SELECT (raw->>'hasAttachments')::boolean AS has FROM inbound_mail_requests
     WHERE mail_id = $1 AND raw IS NOT NULL ORDER BY attempt DESC LIMIT 1`,
    [mailId],
  );
  return rows[0]?.has !== false;
}

/** How one attachment's download failed: a reason for the ticket's note, or a failure to retry. */
type AttachmentFailure = { kind: 'permanent'; reason: string } | { kind: 'retry'; error: unknown };

/**
 * Sorts a failed attachment download. Throttling and outages are retried (the activity's retry
 * skips what is stored); a 4xx other than 429, a body past the transport's cap or a malformed
 * answer will fail the same way again, so the attachment gets a note instead. A missing one
 * (removed from the email since it was listed) is neither.
 */
function attachmentFailure(err: unknown): AttachmentFailure | 'gone' {
  if (err instanceof MalformedAttachmentError || err instanceof ResponseTooLargeError) {
    return { kind: 'permanent', reason: `not stored: ${err.message}` };
  }
  const problem = classifyGraphError(err);
  if (problem.kind === 'not_found') return 'gone';
  if (problem.kind === 'throttled' || problem.kind === 'transient') return { kind: 'retry', error: err };
  const status = (err as { statusCode?: unknown }).statusCode;
  const code = 'code' in problem ? problem.code : '';
  return {
    kind: 'permanent',
    reason:
      `not stored: Microsoft Graph refused it (${typeof status === 'number' ? `${status} ` : ''}${code}): ${problem.message}`.slice(
        0,
        1000,
      ),
  };
}

/** Email attachments: fetched from Graph once the email is a ticket message, stored by content hash. */
export function createAttachmentActivities(deps: MailboxActivityDeps) {
  const { db, settings } = deps;

  return {
    /**
     * Fetches the file and inline attachments of a stored email and keeps them with its ticket
     * message, streamed into PostgreSQL up to the per-attachment and per-email limits; past them,
     * or when Graph refuses one for good, a note names the attachment and why. One attachment's
     * failure does not stop the later ones. Idempotent per (message, attachment id): a retry
     * skips what is stored or noted.
     */
    async storeMailAttachments(mailId: string): Promise<AttachmentsOutcome> {
      const none = (note: string): AttachmentsOutcome => ({ stored: 0, skipped: 0, bytes: 0, note });
      const mail = await getInboundMail(db, mailId);
      if (!mail?.ticket_id) return none('the email is not part of a ticket');
      const message = await storedMessageOf(db, mailId);
      if (!message) return none('the email was stored by another mailbox or run');
      if (!(await mayHaveAttachments(db, mailId, message))) return none('the email has no attachments');
      const mailbox = await requireMailbox(db, mail.mailbox_id);
      const g = graphFor(deps, mailbox);

      let metas: GraphAttachmentMeta[];
      try {
        metas = await listAttachments(g, mail.graph_message_id);
      } catch (err) {
        const problem = settle(err); // throttling and outages are thrown for the retry policy
        if (problem.kind === 'not_found') return none('the email is no longer in the mailbox');
        // Refused (4xx) or not Graph's shape: the same request will fail the same way.
        throw ApplicationFailure.create({
          type: 'AttachmentsRefusedError',
          message: `listing the attachments failed: ${problem.kind}: ${problem.message}`,
          nonRetryable: true,
        });
      }
      const done = await attachmentsOfMessage(db, message.id);
      const known = new Set(done.map((a) => a.graph_attachment_id));
      let used = done.reduce((sum, a) => sum + (a.sha256 ? Number(a.size) : 0), 0);
      const outcome: AttachmentsOutcome = { stored: 0, skipped: 0, bytes: 0, note: null };
      let retry: unknown;
      const ctx = Context.current();
      const skip = async (row: NewAttachment, size: number, reason: string) => {
        await recordSkippedAttachment(db, row, size, reason);
        outcome.skipped += 1;
      };

      for (const meta of metas) {
        if (known.has(meta.id)) continue;
        ctx.heartbeat();
        const row: NewAttachment = {
          ticketId: message.ticket_id,
          ticketMessageId: message.id,
          graphAttachmentId: meta.id,
          name: (meta.name ?? 'attachment').slice(0, 500),
          contentType: (meta.contentType ?? 'application/octet-stream').slice(0, 200),
          isInline: meta.isInline ?? false,
          contentId: meta.contentId ?? null,
        };
        if (!isFileAttachment(meta)) {
          const kind = meta['@odata.type']?.includes('reference')
            ? 'a link to a cloud file'
            : 'an attached Outlook item';
          await skip(row, meta.size ?? 0, `${kind}: open the email in Outlook to see it`);
          continue;
        }
        const room = Math.max(0, settings.attachmentsMaxBytesPerEmail - used);
        const limit = Math.min(settings.attachmentMaxBytes, room);
        let content;
        try {
          content = await readAttachment(g, mail.graph_message_id, meta, limit, (chunks) =>
            storeAttachmentStream(db, { ...row, contentId: meta.contentId ?? row.contentId }, chunks),
          );
        } catch (err) {
          const failure = attachmentFailure(err);
          if (failure === 'gone') continue;
          if (failure.kind === 'permanent') {
            await skip(row, meta.size ?? 0, failure.reason);
          } else {
            retry ??= failure.error; // the later attachments first; this one on the next attempt
          }
          continue;
        }
        if (!content.ok) {
          const size = Math.max(meta.size ?? 0, content.seenBytes);
          const reason =
            size > settings.attachmentMaxBytes
              ? `not stored: ${formatBytes(size)} is over the ${formatBytes(settings.attachmentMaxBytes)} limit per attachment`
              : `not stored: the email's attachments are over the ${formatBytes(settings.attachmentsMaxBytesPerEmail)} limit per email`;
          await skip({ ...row, contentId: meta.contentId ?? row.contentId }, size, reason);
          continue;
        }
        const size = Number(content.stored.size);
        used += size;
        outcome.stored += 1;
        outcome.bytes += size;
      }
      if (outcome.stored || outcome.skipped) log.info('email attachments', { mailId, ...outcome });
      if (retry !== undefined) settle(retry); // throws: throttling waits for Retry-After, outages back off
      return outcome;
    },
  };
}
