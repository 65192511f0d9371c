import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

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

/** Search attribute pairs for a start, leaving out the ones with no value. */
export function searchAttributes(
  pairs: Array<[SearchAttributePair['key'], string | null | undefined]>,
): SearchAttributePair[] {
  return pairs
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([key, value]) => ({ key, value }) as SearchAttributePair);
}
