import { emailToTicketFamily } from '../starters/email-to-ticket';
import type { JobFamily } from '../starters/family';
import { inboundBatchFamily } from '../starters/inbound-batch';
import { inboundWebhookFamily } from '../starters/inbound-webhook';
import { mailboxLifecycleFamily } from '../starters/mailbox';
import { ticketReplyFamily } from '../starters/ticket-reply';
import { webhookLaneFamily } from '../starters/webhook-lane';

/** Every workflow family intake can hand work to, by the kind stored in its outbox rows. */
export const JOB_FAMILIES: ReadonlyMap<string, JobFamily<never>> = new Map(
  [
    inboundWebhookFamily,
    inboundBatchFamily,
    emailToTicketFamily,
    ticketReplyFamily,
    mailboxLifecycleFamily,
    webhookLaneFamily,
  ].map((f) => [f.kind, f as JobFamily<never>]),
);
