export { inboundWebhook } from './incoming/inbound-webhook';
export { inboundBatch } from './incoming/inbound-batch';
export { webhookLane } from './outgoing/webhook-lane';
export { mailboxWorkflow } from './mail/mailbox';
export { mailboxScan } from './mail/mailbox-scan';
export { emailToTicket, ticketReply } from './mail/email-to-ticket';
export { retentionWorkflow } from './retention/retention';
