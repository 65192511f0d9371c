/**
 * Compile-time only (nothing imports this file): every workflow the capabilities start by name
 * is exported from the bundle entry under that name, with the signature its contract declares.
 * The capabilities never import workflow code, so this is where the two are held together.
 */
import type * as workflows from './index';
import type {
  INBOUND_BATCH_WORKFLOW,
  INBOUND_WEBHOOK_WORKFLOW,
  InboundBatchWorkflow,
  InboundWebhookWorkflow,
} from '../incoming/workflow-contract';
import type {
  EMAIL_TO_TICKET_WORKFLOW,
  EmailToTicketWorkflow,
  MAILBOX_SCAN_WORKFLOW,
  MAILBOX_WORKFLOW,
  MailboxScanWorkflow,
  MailboxWorkflow,
  TICKET_REPLY_WORKFLOW,
  TicketReplyWorkflow,
} from '../mail/workflow-contract';
import type { WEBHOOK_LANE_WORKFLOW, WebhookLaneWorkflow } from '../outgoing/workflow-contract';
import type { RETENTION_WORKFLOW, RetentionWorkflow } from '../retention/workflow-contract';

type Registered = typeof workflows;

interface Contracts {
  [WEBHOOK_LANE_WORKFLOW]: WebhookLaneWorkflow;
  [INBOUND_WEBHOOK_WORKFLOW]: InboundWebhookWorkflow;
  [INBOUND_BATCH_WORKFLOW]: InboundBatchWorkflow;
  [MAILBOX_WORKFLOW]: MailboxWorkflow;
  [MAILBOX_SCAN_WORKFLOW]: MailboxScanWorkflow;
  [EMAIL_TO_TICKET_WORKFLOW]: EmailToTicketWorkflow;
  [TICKET_REPLY_WORKFLOW]: TicketReplyWorkflow;
  [RETENTION_WORKFLOW]: RetentionWorkflow;
}

/** The names whose registered workflow is missing or has another signature than its contract. */
type Broken = {
  [K in keyof Contracts]: K extends keyof Registered ? (Registered[K] extends Contracts[K] ? never : K) : K;
}[keyof Contracts];

// A type error here names the workflow whose contract does not hold.
export const contractsHold: [Broken] extends [never] ? true : Broken = true;
