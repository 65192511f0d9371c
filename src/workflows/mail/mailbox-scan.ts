import { proxyActivities } from '@temporalio/workflow';
import type { MailboxActivities } from '../../activities/mail';
import type { CatchUpOutcome, MailboxScanInput } from '../../mail/workflow-contract';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: ['MailboxMissingError'],
};
const { catchUpMailbox } = proxyActivities<MailboxActivities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '15s',
  retry,
});
const { retryDueMail, notifyMailbox } = proxyActivities<MailboxActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '15s',
  retry,
});

/**
 * One scan of a mailbox (started by its Temporal Schedule, `mailbox-scan:<id>`) or a manual import
 * (`mailbox-import:<id>:<key>`): a delta round that starts a workflow per new email. Scheduled
 * scans also restart failed emails whose retry is due, and tell people when the sign-in broke.
 */
export async function mailboxScan(input: MailboxScanInput): Promise<CatchUpOutcome> {
  const outcome = await catchUpMailbox(input.mailboxId, input.mode);
  if (input.mode === 'import') return outcome;
  if (!outcome.ok) {
    if (outcome.kind === 'credentials_rejected' || outcome.kind === 'reauthorization_required') {
      await notifyMailbox(input.mailboxId, { kind: outcome.kind, detail: outcome.message });
    }
    return outcome;
  }
  const retried = await retryDueMail(input.mailboxId);
  return { ...outcome, retried };
}
