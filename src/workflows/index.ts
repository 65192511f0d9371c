export { inboundWebhook } from './inbound-webhook';
export { inboundBatch } from './inbound-batch';
export { outgoingDispatch } from './outgoing-dispatch';
export { outgoingDelivery } from './outgoing-delivery';
export { webhookBatch } from './webhook-batch';
export { mailboxWorkflow } from './mailbox';
export { mailboxScan } from './mailbox-scan';
export { emailToTicket, ticketReply } from './email-to-ticket';
export { retentionWorkflow } from './retention';
