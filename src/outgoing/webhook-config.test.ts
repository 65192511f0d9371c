import { checkWebhookRules, mergeSettings, webhookCreateSchema, type WebhookUpdate } from './webhook-config';

const policy = { allowedHosts: [] };
const base = { name: 'MSPbots', url: 'https://hooks.example.com/halo', events: [{ type: 'Ticket Changed' }] };

const rules = (body: Record<string, unknown>) => {
  const parsed = webhookCreateSchema.parse({ ...base, ...body });
  const { settings, authSecret } = mergeSettings(parsed as WebhookUpdate, undefined);
  return checkWebhookRules(settings, authSecret, policy, parsed.signingSecret).map((v) => v.rule);
};

test('a minimal webhook breaks no rule and gets the defaults', () => {
  expect(rules({})).toEqual([]);
  const { settings } = mergeSettings(webhookCreateSchema.parse(base) as WebhookUpdate, undefined);
  expect(settings).toMatchObject({
    type: 'standard',
    method: 'POST',
    auth: { type: 'none' },
    payload: { type: 'small', fields: [] },
    batching: { mode: 'none' },
    enabled: true,
    autoDisableThreshold: 0,
    events: [{ type: 'ticket.changed', match: 'all', conditions: [] }],
  });
});

test.each<[string, Record<string, unknown>]>([
  ['at_least_one_event', { events: [] }],
  ['unknown_event_type', { events: [{ type: 'Ticket Exploded' }] }],
  ['duplicate_event_type', { events: [{ type: 'Ticket Changed' }, { type: 'ticket.changed' }] }],
  ['unknown_field', { events: [{ type: 'Site created', conditions: [{ field: 'priority', operator: 'is_blank' }] }] }],
  [
    'condition_value_required',
    { events: [{ type: 'Ticket Changed', conditions: [{ field: 'status', operator: 'equals' }] }] },
  ],
  ['batching_requires_non_full_payload', { payload: { type: 'full' }, batching: { mode: 'any_event' } }],
  ['batching_requires_post', { method: 'GET', batching: { mode: 'same_event' } }],
  ['batching_requires_standard_type', { type: 'teams', batching: { mode: 'same_event' } }],
  ['unsupported_webhook_type', { type: 'teams' }],
  ['custom_payload_requires_fields', { payload: { type: 'custom', fields: [] } }],
  ['fields_require_custom_payload', { payload: { type: 'small', fields: [{ field: 'status' }] } }],
  ['send_id_single_select_only', { payload: { type: 'custom', fields: [{ field: 'summary', sendId: true }] } }],
  ['duplicate_field', { payload: { type: 'custom', fields: [{ field: 'status' }, { field: 'status' }] } }],
  ['basic_auth_requires_password', { authentication: { type: 'basic', username: 'u' } }],
  ['bearer_auth_requires_token', { authentication: { type: 'bearer' } }],
  ['header_auth_requires_value', { authentication: { type: 'header', name: 'X-Api-Key' } }],
  ['auth_header_reserved', { authentication: { type: 'header', name: 'Webhook-Signature', value: 'x' } }],
  ['invalid_auth_header_name', { authentication: { type: 'header', name: 'bad header', value: 'x' } }],
  ['blocked_destination', { url: 'http://169.254.169.254/latest' }],
  ['invalid_url', { url: 'not a url' }],
  ['invalid_signing_secret', { signingSecret: 'hunter2' }],
])('%s', (rule, body) => {
  expect(rules(body)).toContain(rule);
});

test('batching is fine with small, custom and event-only payloads on a standard POST webhook', () => {
  for (const payload of [
    { type: 'small' },
    { type: 'event_only' },
    { type: 'custom', fields: [{ field: 'status', sendId: true }] },
  ]) {
    expect(rules({ payload, batching: { mode: 'same_event_type', waitSeconds: 5, maxItems: 10 } })).toEqual([]);
  }
});

test('an update merges over the current settings', () => {
  const { settings: current } = mergeSettings(webhookCreateSchema.parse(base) as WebhookUpdate, undefined);
  const { settings, authChanged } = mergeSettings({ batching: { mode: 'any_event' } }, current);
  expect(settings.events).toEqual(current.events);
  expect(settings.batching).toEqual({ mode: 'any_event', waitSeconds: 30, maxItems: 100 });
  expect(authChanged).toBe(false);
});
