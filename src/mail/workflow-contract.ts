/** Workflow ids, inputs, results, signals, updates and queries of the mailbox workflow family. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { InboundMailStatus, MailTrigger } from './db/mail-log';

export const mailboxWorkflowIds = {
  mailbox: (mailboxId: string) => `mailbox:${mailboxId}`,
  mail: (mailboxId: string, graphMessageId: string) => `mail:${mailboxId}:${graphMessageId}`,
  scanSchedule: (mailboxId: string) => `mailbox-scan:${mailboxId}`,
  import: (mailboxId: string, key: string) => `mailbox-import:${mailboxId}:${key}`,
  reply: (ticketId: string, messageId: string) => `ticket-reply:${ticketId}:${messageId}`,
};

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface LifecycleSignal {
  event: LifecycleEvent;
  subscriptionId: string;
}

/**
 * The timings the mailbox workflow paces itself by. Read from the worker's settings when needed
 * (the `mailboxTimings` activity); runs started before that carried them in their input.
 */
export interface MailboxWorkflowSettings {
  renewBeforeMs: number;
  retryDelayMs: number;
  sweepIntervalMs: number;
  /** Continue-as-new after this many loop cycles even if the server has not suggested it. */
  maxCyclesPerRun: number;
}

/** What the mailbox workflow shows as its state (query `state`) and carries over a continue-as-new. */
export interface MailboxWorkflowState {
  mailboxId: string;
  status: 'starting' | 'active' | 'retrying' | 'cancelled';
  subscriptionId: string | null;
  expiresAt: string | null;
  nextRenewalAt: string | null;
  nextSweepAt: string | null;
  nextRetryAt: string | null;
  lastRenewedAt: string | null;
  renewals: number;
  recreations: number;
  reauthorizations: number;
  catchUps: number;
  consecutiveFailures: number;
  lastError: string | null;
  recentEvents: Array<{ at: string; event: string }>;
  /** How many runs (continue-as-new generations) this mailbox workflow has had. */
  run: number;
}

export interface MailboxWorkflowInput {
  mailboxId: string;
  /**
   * Only histories recorded before the `mailbox-live-settings` patch read this: their runs used
   * the values the API had when it started them, carried forward by continue-as-new.
   */
  settings?: MailboxWorkflowSettings;
  carry?: { state: MailboxWorkflowState; pending: LifecycleSignal[]; catchUpReasons: string[] };
}

/** Why a Graph operation for a mailbox did not work, as far as the workflow needs to know. */
export type MailboxProblemKind =
  | 'credentials_rejected'
  | 'reauthorization_required'
  | 'forbidden'
  | 'not_found'
  | 'bad_request'
  | 'mailbox_missing'
  | 'wrong_method';

export type SubscriptionOutcome =
  | {
      ok: true;
      subscriptionId: string;
      expiresAt: string;
      created: boolean;
      /** When to renew, by the current settings (src/mail/subscription-renewal.ts); absent from older results. */
      renewAt?: string;
    }
  | { ok: false; kind: MailboxProblemKind; message: string };

export type CancelOutcome = { ok: true; deleted: boolean; message: string };

export type CatchUpOutcome =
  | { ok: true; pages: number; seen: number; started: number; retried: number }
  | { ok: false; kind: MailboxProblemKind; message: string };

export const mailboxLifecycleSignal = defineSignal<[LifecycleSignal]>('mailboxLifecycle');
export const mailboxCatchUpSignal = defineSignal<[{ reason: string }]>('mailboxCatchUp');
export const ensureSubscriptionUpdate = defineUpdate<SubscriptionOutcome>('ensureSubscription');
export const cancelSubscriptionUpdate = defineUpdate<CancelOutcome>('cancelSubscription');
export const mailboxStateQuery = defineQuery<MailboxWorkflowState>('state');

export interface EmailToTicketInput {
  mailboxId: string;
  mailId: string;
  /** Attempt number of this run's first attempt (later runs continue the count). */
  firstAttempt: number;
  maxAttempts: number;
  retryInitialSeconds: number;
  trigger: MailTrigger;
}

export interface EmailToTicketResult {
  status: InboundMailStatus;
  attempts: number;
  ticketId: string | null;
}

export interface MailboxScanInput {
  mailboxId: string;
  mode: 'scan' | 'import';
}

export interface TicketReplyInput {
  ticketMessageId: string;
}

/** The workflows as registered with the worker (src/workflows/mail/). */
export const MAILBOX_WORKFLOW = 'mailboxWorkflow';
export type MailboxWorkflow = (input: MailboxWorkflowInput) => Promise<MailboxWorkflowState>;
export const MAILBOX_SCAN_WORKFLOW = 'mailboxScan';
export type MailboxScanWorkflow = (input: MailboxScanInput) => Promise<CatchUpOutcome>;
export const EMAIL_TO_TICKET_WORKFLOW = 'emailToTicket';
export type EmailToTicketWorkflow = (input: EmailToTicketInput) => Promise<EmailToTicketResult>;
export const TICKET_REPLY_WORKFLOW = 'ticketReply';
export type TicketReplyWorkflow = (input: TicketReplyInput) => Promise<{ ok: boolean; error: string | null }>;
