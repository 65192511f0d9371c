import { updateInboundMail, type InboundMailRow } from './db/mail-log';
import type { Db } from '../platform/db/pool';
import { startEmailToTicket, type StartMailDeps } from './email-starter';

export interface MailRetryDeps extends StartMailDeps {
  db: Db;
}

// Emails a person may send through processing again; the rest are done or in progress.
const RETRYABLE = new Set(['failed', 'skipped']);
const IN_PROGRESS = new Set(['queued', 'processing', 'retrying']);

export type MailRetryOutcome = 'started' | 'running' | 'not_retryable';

/**
 * A person's retry of a failed or skipped email: marked queued and counted, then its workflow
 * started again. A run still in flight (e.g. finishing its notifications) means nothing was
 * retried, so the mark and the count are put back.
 */
export async function retryInboundMail(deps: MailRetryDeps, row: InboundMailRow): Promise<MailRetryOutcome> {
  if (!RETRYABLE.has(row.status)) return IN_PROGRESS.has(row.status) ? 'running' : 'not_retryable';
  await updateInboundMail(deps.db, row.id, {
    status: 'queued',
    manual_retries: row.manual_retries + 1,
    next_retry_at: null,
  });
  const result = await startEmailToTicket(deps, row, 'manual', 'again');
  if (result === 'running')
    await updateInboundMail(deps.db, row.id, { status: row.status, manual_retries: row.manual_retries });
  return result;
}
