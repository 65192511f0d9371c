import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { MailboxRow } from './db/mailboxes';
import type { MailSettings } from './settings';
import {
  cancelSubscriptionUpdate,
  ensureSubscriptionUpdate,
  mailboxCatchUpSignal,
  mailboxLifecycleSignal,
  mailboxStateQuery,
  mailboxWorkflowIds,
  MAILBOX_SCAN_WORKFLOW,
  MAILBOX_WORKFLOW,
  type MailboxScanWorkflow,
  type MailboxWorkflow,
  type CancelOutcome,
  type CatchUpOutcome,
  type LifecycleSignal,
  type MailboxScanInput,
  type MailboxWorkflowInput,
  type MailboxWorkflowState,
  type SubscriptionOutcome,
} from './workflow-contract';
import { SA } from '../platform/temporal/search-attributes';
import { upsertSchedule } from '../platform/temporal/starting';
import type { JobFamily } from '../platform/intake/family';

/** What driving the mailbox workflows from the API needs. */
export interface MailboxControlDeps {
  temporal: Client;
  taskQueue: string;
  settings: MailSettings;
}

const searchAttributes = (mailboxId: string) => [
  { key: SA.integration, value: 'microsoft365' },
  { key: SA.mailboxId, value: mailboxId },
];

function startOperation(deps: MailboxControlDeps, mailboxId: string) {
  // No settings: the workflow reads them from its worker when it needs them.
  const input: MailboxWorkflowInput = { mailboxId };
  return new WithStartWorkflowOperation<MailboxWorkflow>(MAILBOX_WORKFLOW, {
    workflowId: mailboxWorkflowIds.mailbox(mailboxId),
    taskQueue: deps.taskQueue,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: searchAttributes(mailboxId),
  });
}

/** Starts the mailbox workflow if it is not running and asks it, in one call, to ensure the subscription. */
export async function ensureSubscription(deps: MailboxControlDeps, mailboxId: string): Promise<SubscriptionOutcome> {
  return deps.temporal.workflow.executeUpdateWithStart(ensureSubscriptionUpdate, {
    startWorkflowOperation: startOperation(deps, mailboxId),
  });
}

/**
 * Asks the mailbox workflow to delete the subscription at Graph and stop. Started for the purpose
 * when none runs, so a subscription recorded by an earlier run is still deleted.
 */
export async function cancelSubscription(deps: MailboxControlDeps, mailboxId: string): Promise<CancelOutcome> {
  return deps.temporal.workflow.executeUpdateWithStart(cancelSubscriptionUpdate, {
    startWorkflowOperation: startOperation(deps, mailboxId),
  });
}

/** The running mailbox workflow's state; null when none runs. */
export async function mailboxState(deps: MailboxControlDeps, mailboxId: string): Promise<MailboxWorkflowState | null> {
  const handle = deps.temporal.workflow.getHandle(mailboxWorkflowIds.mailbox(mailboxId));
  try {
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return null;
    return await handle.query(mailboxStateQuery);
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** Delivers a lifecycle notification to the mailbox workflow; false when none runs (nothing to act on). */
export async function signalLifecycle(
  deps: MailboxControlDeps,
  mailboxId: string,
  signal: LifecycleSignal,
): Promise<boolean> {
  try {
    await deps.temporal.workflow
      .getHandle(mailboxWorkflowIds.mailbox(mailboxId))
      .signal(mailboxLifecycleSignal, signal);
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/** Graph lifecycle notifications accepted at intake, delivered in order to the mailbox workflow. */
export const mailboxLifecycleFamily: JobFamily<LifecycleSignal> = {
  kind: 'mailbox.lifecycle',
  run: async (deps, workflowId, signals) => {
    const handle = deps.temporal.workflow.getHandle(workflowId);
    for (const signal of signals) {
      try {
        await handle.signal(mailboxLifecycleSignal, signal);
      } catch (err) {
        // No mailbox workflow runs: nothing holds a subscription to act on.
        if (isGone(err)) return;
        throw err;
      }
    }
  },
};

/** Stops the mailbox workflow without touching Graph (the mailbox is being deleted). */
export async function terminateMailboxWorkflow(deps: MailboxControlDeps, mailboxId: string): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(mailboxWorkflowIds.mailbox(mailboxId)).terminate('mailbox deleted');
  } catch (err) {
    if (!isGone(err)) throw err;
  }
}

const isGone = (err: unknown) =>
  err instanceof WorkflowNotFoundError ||
  (err as { name?: string }).name === 'WorkflowNotFoundError' ||
  /not found|already completed/i.test((err as Error).message ?? '');

/** The interval a scan mailbox is scanned at, never below the configured minimum. */
export function scanIntervalSeconds(deps: MailboxControlDeps, mailbox: MailboxRow): number {
  return Math.max(
    deps.settings.scanMinIntervalSeconds,
    mailbox.scan_interval_seconds ?? deps.settings.scanIntervalSeconds,
  );
}

/** Creates or updates the Temporal Schedule that scans a mailbox every few minutes. */
export async function upsertScanSchedule(deps: MailboxControlDeps, mailbox: MailboxRow): Promise<void> {
  const scheduleId = mailboxWorkflowIds.scanSchedule(mailbox.id);
  const every = `${scanIntervalSeconds(deps, mailbox)}s`;
  const input: MailboxScanInput = { mailboxId: mailbox.id, mode: 'scan' };
  const options = {
    scheduleId,
    spec: { intervals: [{ every }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: MAILBOX_SCAN_WORKFLOW,
      workflowId: scheduleId,
      taskQueue: deps.taskQueue,
      args: [input] as [MailboxScanInput],
      typedSearchAttributes: searchAttributes(mailbox.id),
    },
    // A scan still running when the next is due makes the next one pointless.
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    // A disabled mailbox keeps its schedule, paused.
    state: { note: `scan of mailbox ${mailbox.name}`, paused: !mailbox.enabled },
  };
  await upsertSchedule(deps.temporal, options, (previous) => ({ ...previous, paused: !mailbox.enabled }));
}

/**
 * After a mailbox is enabled again: a delta catch-up now picks up what arrived while it was off
 * (the mailbox workflow for webhooks, an immediate scan for the scan method).
 */
export async function catchUpAfterEnable(deps: MailboxControlDeps, mailbox: MailboxRow): Promise<void> {
  try {
    if (mailbox.method === 'webhooks') {
      await deps.temporal.workflow
        .getHandle(mailboxWorkflowIds.mailbox(mailbox.id))
        .signal(mailboxCatchUpSignal, { reason: 'mailbox enabled' });
    } else {
      await deps.temporal.schedule.getHandle(mailboxWorkflowIds.scanSchedule(mailbox.id)).trigger();
    }
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError) && !isGone(err)) throw err;
  }
}

export async function deleteScanSchedule(deps: MailboxControlDeps, mailboxId: string): Promise<void> {
  try {
    await deps.temporal.schedule.getHandle(mailboxWorkflowIds.scanSchedule(mailboxId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/** Runs "import emails now" and waits for its outcome (permission problems included). */
export async function runImport(deps: MailboxControlDeps, mailboxId: string, key: string): Promise<CatchUpOutcome> {
  const input: MailboxScanInput = { mailboxId, mode: 'import' };
  return deps.temporal.workflow.execute<MailboxScanWorkflow>(MAILBOX_SCAN_WORKFLOW, {
    taskQueue: deps.taskQueue,
    workflowId: mailboxWorkflowIds.import(mailboxId, key),
    args: [input],
    workflowExecutionTimeout: '5m',
    typedSearchAttributes: searchAttributes(mailboxId),
  });
}
