export { inboundWebhook } from './inbound-webhook';
