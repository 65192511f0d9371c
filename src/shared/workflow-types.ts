/** Inputs and outputs shared by the API (which starts workflows) and the worker (which runs them). */

export interface InboundWebhookInput {
  incomingWebhookId: string;
  /** Total attempts the processing method allows (1 = not retried). */
  maxAttempts: number;
  activityTimeoutSeconds: number;
  retryInitialSeconds: number;
}

export interface InboundWebhookResult {
  status: 'succeeded' | 'failed';
  attempts: number;
}

export const workflowIds = {
  inbound: (integrationId: string, deliveryKey: string) => `inbound:${integrationId}:${deliveryKey}`,
};
