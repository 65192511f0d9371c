import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes every Switchyard workflow may carry, so the Temporal UI can filter on them. */
export const SA = {
  integration: defineSearchAttributeKey('SwitchyardIntegration', SearchAttributeType.KEYWORD),
  integrationId: defineSearchAttributeKey('SwitchyardIntegrationId', SearchAttributeType.KEYWORD),
  webhookId: defineSearchAttributeKey('SwitchyardWebhookId', SearchAttributeType.KEYWORD),
  mailboxId: defineSearchAttributeKey('SwitchyardMailboxId', SearchAttributeType.KEYWORD),
  eventType: defineSearchAttributeKey('SwitchyardEventType', SearchAttributeType.KEYWORD),
  entityId: defineSearchAttributeKey('SwitchyardEntityId', SearchAttributeType.KEYWORD),
} as const;

export const ALL_SEARCH_ATTRIBUTES = Object.values(SA);
