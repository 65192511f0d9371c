import { updateInboundMail, type InboundMailRow } from './db/mail-log';
import { inTransaction, type Db } from '../platform/db/pool';
import { insertIntakeJobs } from '../platform/intake/jobs';
import { emailJob, type StartMailDeps } from './email-starter';

export interface MailRetryDeps {
  db: Db;
  settings: StartMailDeps['settings'];
}

// Emails a person may send through processing again; the rest are done or in progress.
const RETRYABLE = new Set(['failed', 'skipped']);
const IN_PROGRESS = new Set(['queued', 'processing', 'retrying']);

export type MailRetryOutcome = 'started' | 'running' | 'not_retryable';

/**
 * A person's retry of a failed or skipped email: marked queued and counted, and its new run
 * queued in the intake outbox, in one transaction. A run still finishing its notifications is
 * waited for by the starter, so the retry is never lost.
 */
export async function retryInboundMail(deps: MailRetryDeps, row: InboundMailRow): Promise<MailRetryOutcome> {
  if (!RETRYABLE.has(row.status)) return IN_PROGRESS.has(row.status) ? 'running' : 'not_retryable';
  await inTransaction(deps.db, async (tx) => {
    await updateInboundMail(tx, row.id, {
      status: 'queued',
      manual_retries: row.manual_retries + 1,
      next_retry_at: null,
    });
    await insertIntakeJobs(tx, [emailJob(deps.settings, row, 'manual', 'again')]);
  });
  return 'started';
}
