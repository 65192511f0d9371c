import { emailRetryFamily, emailToTicketFamily } from './mail/email-starter';
import type { JobFamily } from './platform/intake/family';
import { inboundBatchFamily } from './incoming/batch-starter';
import { inboundWebhookFamily } from './incoming/webhook-starter';
import { mailboxLifecycleFamily } from './mail/mailbox-starter';
import { ticketReplyFamily } from './mail/reply-starter';
import { webhookLaneFamily } from './outgoing/lane-starter';

/** Every workflow family intake can hand work to, by the kind stored in its outbox rows. */
export const JOB_FAMILIES: ReadonlyMap<string, JobFamily<never>> = new Map(
  [
    inboundWebhookFamily,
    inboundBatchFamily,
    emailToTicketFamily,
    emailRetryFamily,
    ticketReplyFamily,
    mailboxLifecycleFamily,
    webhookLaneFamily,
  ].map((f) => [f.kind, f as JobFamily<never>]),
);
