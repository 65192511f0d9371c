export { inboundWebhook } from './inbound-webhook';
export { inboundBatch } from './inbound-batch';
export { webhookLane } from './webhook-lane';
export { mailboxWorkflow } from './mailbox';
export { mailboxScan } from './mailbox-scan';
export { emailToTicket, ticketReply } from './email-to-ticket';
export { retentionWorkflow } from './retention';
