import { ApplicationFailure } from '@temporalio/activity';
import { getMailbox, type MailboxRow } from '../../mail/db/mailboxes';
import type { Db } from '../../platform/db/pool';
import { connectMailbox, type MailboxGraph } from '../../mail/graph/graph-client';
import { classifyGraphError, explainProblem, type GraphProblem } from '../../mail/graph/errors';
import type { KeyedLimiter } from '../../mail/graph/limiter';
import type { MailSettings } from '../../mail/settings';
import type { Logger } from '../../platform/logger';
import type { SecretBox } from '../../platform/security/secret-box';

/** What the mailbox activities need; the worker passes real ones. */
export interface MailboxActivityDeps {
  db: Db;
  logger: Logger;
  secrets: SecretBox;
  settings: MailSettings;
  limiter: KeyedLimiter;
}

/** Problems that end an operation (returned as values); throttling and outages are thrown for retry. */
export type SettledProblem = Exclude<GraphProblem, { kind: 'throttled' } | { kind: 'transient' }>;

/**
 * Classifies a Graph/MSAL failure. Throttling becomes a retryable failure whose next retry waits
 * for Retry-After; outages are rethrown for the activity's retry policy; the rest is returned.
 */
export function settle(err: unknown): SettledProblem {
  const problem = classifyGraphError(err);
  if (problem.kind === 'throttled') {
    throw ApplicationFailure.create({
      type: 'GraphThrottledError',
      message: problem.message,
      nextRetryDelay: Math.max(1000, problem.retryAfterMs),
    });
  }
  if (problem.kind === 'transient') {
    throw ApplicationFailure.create({ type: 'GraphUnavailableError', message: problem.message });
  }
  return problem;
}

/** Loads a mailbox or fails the activity for good: a deleted mailbox will not come back. */
export async function requireMailbox(db: Db, mailboxId: string): Promise<MailboxRow> {
  const mailbox = await getMailbox(db, mailboxId);
  if (!mailbox) {
    throw ApplicationFailure.create({
      type: 'MailboxMissingError',
      message: `mailbox ${mailboxId} no longer exists`,
      nonRetryable: true,
    });
  }
  return mailbox;
}

/** A problem reading a mailbox, explained for its administrator, naming the mailbox as they know it. */
export function explainReadProblem(
  problem: GraphProblem,
  mailbox: MailboxRow,
  g: Pick<MailboxGraph, 'shared'>,
): string {
  return explainProblem(problem, {
    access: 'read',
    method: mailbox.method,
    shared: g.shared,
    mailbox: mailbox.shared_mailbox ?? mailbox.email_address ?? mailbox.connected_account ?? mailbox.name,
  });
}

export function graphFor(deps: MailboxActivityDeps, mailbox: MailboxRow): MailboxGraph {
  return connectMailbox(
    { db: deps.db, secrets: deps.secrets, http: deps.settings.outbound, limiter: deps.limiter },
    mailbox,
  );
}
