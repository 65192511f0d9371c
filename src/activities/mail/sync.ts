import { randomUUID } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import { getMailbox, updateMailbox } from '../../mail/db/mailboxes';
import { claimDueRetries, knownGraphIds, upsertInboundMail, type MailSource } from '../../mail/db/mail-log';
import { addressOf, deltaPage, type GraphMessage } from '../../mail/graph/messages';
import { emailJob } from '../../mail/email-starter';
import { inTransaction } from '../../platform/db/pool';
import { insertIntakeJobs } from '../../platform/intake/jobs';
import { mailboxWorkflowIds, type CatchUpOutcome } from '../../mail/workflow-contract';
import { explainReadProblem, graphFor, requireMailbox, settle, type MailboxActivityDeps } from './support';

const RETRY_BATCH = 200;

/** Delta catch-up and the scheduler's retries: the safety nets under change notifications. */
export function createSyncActivities(deps: MailboxActivityDeps) {
  const { db, settings } = deps;

  return {
    /**
     * Pages the inbox delta from the stored delta link, logs every email received since the
     * mailbox was connected that we have not seen, and starts its workflow. Restarts the delta
     * from scratch when Graph has forgotten the sync state (410).
     */
    async catchUpMailbox(mailboxId: string, source: MailSource): Promise<CatchUpOutcome> {
      const mailbox = await requireMailbox(db, mailboxId);
      // A disabled mailbox is not read; its delta link stays put, so enabling it catches up.
      if (!mailbox.enabled) return { ok: true, pages: 0, seen: 0, started: 0, retried: 0 };
      if (mailbox.method === 'scan' && !mailbox.connected_home_account_id) {
        return {
          ok: false,
          kind: 'reauthorization_required',
          message: 'The mailbox is not signed in: authorize the application first.',
        };
      }
      const since = mailbox.process_since ?? new Date();
      if (!mailbox.process_since) await updateMailbox(db, mailboxId, { process_since: since });
      const g = graphFor(deps, mailbox);
      let link = mailbox.delta_link;
      let restarted = false;
      let pages = 0;
      let seen = 0;
      let started = 0;
      for (;;) {
        let page;
        try {
          page = await deltaPage(g, link);
        } catch (err) {
          const problem = settle(err);
          if (problem.kind === 'sync_reset' && !restarted) {
            log.warn('delta sync state lost; starting over', { mailboxId });
            link = null;
            restarted = true;
            continue;
          }
          const message = explainReadProblem(problem, mailbox, g);
          await updateMailbox(db, mailboxId, { last_error: message, last_error_at: new Date() });
          const kind = problem.kind === 'sync_reset' ? 'bad_request' : problem.kind;
          return { ok: false, kind, message };
        }
        pages += 1;
        Context.current().heartbeat({ pages });
        const fresh = page.items.filter((m) => !m['@removed'] && m.id && received(m) >= since.getTime());
        seen += fresh.length;
        const known = await knownGraphIds(
          db,
          mailboxId,
          fresh.map((m) => m.id),
        );
        const unseen = [...new Map(fresh.filter((m) => !known.has(m.id)).map((m) => [m.id, m])).values()];
        // The emails and their starts commit together: a worker that dies in between leaves neither.
        const created = await inTransaction(db, async (tx) => {
          const rows = await upsertInboundMail(
            tx,
            mailboxId,
            source,
            settings.schedulerRetries,
            unseen.map((m) => ({
              id: randomUUID(),
              graph_message_id: m.id,
              workflow_id: mailboxWorkflowIds.mail(mailboxId, m.id),
              subject: m.subject ?? null,
              from_address: addressOf(m.from),
              from_name: m.from?.emailAddress?.name ?? null,
              internet_message_id: m.internetMessageId ?? null,
              received_at: m.receivedDateTime ? new Date(m.receivedDateTime) : null,
            })),
          );
          const fresh = rows.filter((r) => r.created);
          await insertIntakeJobs(
            tx,
            fresh.map((r) => emailJob(settings, r, 'automatic', 'first')),
          );
          return fresh;
        });
        started += created.length;
        if (page.nextLink) {
          link = page.nextLink;
          continue;
        }
        await updateMailbox(db, mailboxId, { delta_link: page.deltaLink ?? link, delta_synced_at: new Date() });
        break;
      }
      if (started > 0) log.info('delta catch-up found mail', { mailboxId, source, started });
      return { ok: true, pages, seen, started, retried: 0 };
    },

    /** Restarts failed emails whose next automatic retry is due. */
    async retryDueMail(mailboxId: string): Promise<number> {
      if ((await getMailbox(db, mailboxId))?.enabled === false) return 0;
      // The claim and the starts commit together, through the intake outbox.
      return inTransaction(db, async (tx) => {
        const due = await claimDueRetries(tx, mailboxId, RETRY_BATCH);
        await insertIntakeJobs(
          tx,
          due.map((row) => emailJob(settings, row, 'scheduler', 'again')),
        );
        return due.length;
      });
    },
  };
}

const received = (m: GraphMessage) => (m.receivedDateTime ? Date.parse(m.receivedDateTime) : Date.now());
