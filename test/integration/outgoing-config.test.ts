import { createWebhook, emit, ENTITY_EVENT_TYPES, startOutgoingStack, ticketEvent } from './outgoing-helpers';
import type { OutgoingStack } from './outgoing-helpers';

let o: OutgoingStack;

beforeAll(async () => {
  o = await startOutgoingStack({ DELIVERY_RETRY_SCHEDULE: '1s' });
});
afterAll(() => o?.stop());

const valid = () => ({ name: 'MSPbots', url: o.receiver.url('/cfg'), events: [{ type: 'Ticket Changed' }] });

test('create, read, list, update and delete a webhook with the seeds\u2019 MSPbots events', async () => {
  const events = ['Ticket Changed', 'New Ticket Logged', ...ENTITY_EVENT_TYPES].map((type) => ({ type }));
  const created = await o.stack.request('POST', '/api/v1/webhooks', { ...valid(), events });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    name: 'MSPbots',
    type: 'standard',
    method: 'POST',
    authentication: { type: 'none' },
    lightweightLogs: false,
    payload: { type: 'small', fields: [] },
    batching: { mode: 'none', waitSeconds: 30, maxItems: 100 },
    enabled: true,
    autoDisableThreshold: 0,
    signing: { activeSecrets: 1, previousSecretsExpireAt: [] },
    signingSecret: expect.stringMatching(/^whsec_/),
  });
  expect(created.body.events).toHaveLength(11);
  expect(created.body.events[1]).toEqual({
    type: 'ticket.created',
    name: 'New Ticket Logged',
    match: 'all',
    conditions: [],
  });
  const id = created.body.id as string;

  const got = await o.stack.request('GET', `/api/v1/webhooks/${id}`);
  expect(got.body.signingSecret).toBeUndefined();
  expect(got.body.events).toEqual(created.body.events);
  const list = await o.stack.request('GET', '/api/v1/webhooks?limit=100');
  expect(list.body.data.map((w: { id: string }) => w.id)).toContain(id);

  const patched = await o.stack.request('PATCH', `/api/v1/webhooks/${id}`, {
    name: 'MSPbots sync',
    batching: { mode: 'same_event_type', waitSeconds: 10 },
  });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({
    name: 'MSPbots sync',
    batching: { mode: 'same_event_type', waitSeconds: 10, maxItems: 100 },
  });
  expect(patched.body.events).toHaveLength(11);

  expect((await o.stack.request('DELETE', `/api/v1/webhooks/${id}`)).status).toBe(204);
  const gone = await o.stack.request('GET', `/api/v1/webhooks/${id}`);
  expect(gone.status).toBe(404);
  expect(gone.body.error.code).toBe('webhook_not_found');
});

test('authentication secrets are stored encrypted, never returned, and kept when the type is restated without them', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/auth', {
    authentication: { type: 'basic', username: 'halo', password: 'pa55word' },
  });
  expect(hook.authentication).toEqual({ type: 'basic', username: 'halo', hasPassword: true });
  const row = await o.stack.db.query('SELECT secrets_enc, config::text AS config FROM webhooks WHERE id = $1', [
    hook.id,
  ]);
  expect(row.rows[0].secrets_enc).toMatch(/^v2:/);
  expect(JSON.stringify(row.rows[0])).not.toContain('pa55word');
  expect(JSON.stringify(row.rows[0])).not.toContain(hook.signingSecret);

  const renamed = await o.stack.request('PATCH', `/api/v1/webhooks/${hook.id}`, {
    authentication: { type: 'basic', username: 'halo2' },
  });
  expect(renamed.status).toBe(200);
  expect(renamed.body.authentication).toEqual({ type: 'basic', username: 'halo2', hasPassword: true });
  expect(renamed.text).not.toContain('pa55word');
  await emit(o.stack, ticketEvent());
  const [req] = await o.receiver.waitFor('/auth', 1);
  expect(req!.headers['authorization']).toBe(`Basic ${Buffer.from('halo2:pa55word').toString('base64')}`);

  const bearer = await o.stack.request('PATCH', `/api/v1/webhooks/${hook.id}`, { authentication: { type: 'bearer' } });
  expect(bearer.status).toBe(400);
  expect(bearer.body.error.code).toBe('bearer_auth_requires_token');
  const token = await o.stack.request('PATCH', `/api/v1/webhooks/${hook.id}`, {
    authentication: { type: 'bearer', token: 'tok' },
  });
  expect(token.body.authentication).toEqual({ type: 'bearer', hasToken: true });
});

describe('every invalid configuration is a 400 naming the rule', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['at_least_one_event', { events: [] }],
    ['unknown_event_type', { events: [{ type: 'Ticket Exploded' }] }],
    ['duplicate_event_type', { events: [{ type: 'Ticket Changed' }, { type: 'ticket.changed' }] }],
    [
      'unknown_field',
      { events: [{ type: 'Invoice created', conditions: [{ field: 'colour', operator: 'is_blank' }] }] },
    ],
    [
      'condition_value_required',
      { events: [{ type: 'Ticket Changed', conditions: [{ field: 'status', operator: 'equals' }] }] },
    ],
    [
      'condition_value_not_allowed',
      { events: [{ type: 'Ticket Changed', conditions: [{ field: 'status', operator: 'changed', value: 1 }] }] },
    ],
    [
      'condition_value_must_be_list',
      { events: [{ type: 'Ticket Changed', conditions: [{ field: 'status', operator: 'in', value: 'New' }] }] },
    ],
    [
      'condition_value_must_be_single',
      { events: [{ type: 'Ticket Changed', conditions: [{ field: 'status', operator: 'equals', value: ['New'] }] }] },
    ],
    ['batching_requires_non_full_payload', { payload: { type: 'full' }, batching: { mode: 'same_event' } }],
    ['batching_requires_post', { method: 'GET', batching: { mode: 'any_event' } }],
    ['batching_requires_standard_type', { type: 'teams', batching: { mode: 'same_event_type' } }],
    ['unsupported_webhook_type', { type: 'teams' }],
    ['custom_payload_requires_fields', { payload: { type: 'custom' } }],
    ['fields_require_custom_payload', { payload: { type: 'small', fields: [{ field: 'status' }] } }],
    ['send_id_single_select_only', { payload: { type: 'custom', fields: [{ field: 'summary', sendId: true }] } }],
    [
      'duplicate_field',
      { payload: { type: 'custom', fields: [{ field: 'status' }, { field: 'status', sendId: true }] } },
    ],
    ['unknown_field', { payload: { type: 'custom', fields: [{ field: 'colour' }] } }],
    ['basic_auth_requires_password', { authentication: { type: 'basic', username: 'u' } }],
    ['bearer_auth_requires_token', { authentication: { type: 'bearer' } }],
    ['header_auth_requires_value', { authentication: { type: 'header', name: 'X-Key' } }],
    ['invalid_auth_header_name', { authentication: { type: 'header', name: 'X Key', value: 'v' } }],
    ['auth_header_reserved', { authentication: { type: 'header', name: 'Content-Type', value: 'v' } }],
    ['invalid_signing_secret', { signingSecret: 'whsec_tooshort' }],
    ['invalid_url', { url: 'halo.example.com/hook' }],
    ['blocked_destination', { url: 'http://169.254.169.254/latest/meta-data/' }],
    ['validation_failed', { method: 'PUT' }],
    ['validation_failed', { batching: { mode: 'any_event', waitSeconds: 0 } }],
    ['validation_failed', { colour: 'blue' }],
  ];

  test.each(cases)('%s', async (rule, body) => {
    const res = await o.stack.request('POST', '/api/v1/webhooks', { ...valid(), ...body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(rule);
    expect(res.body.error.message).toEqual(expect.any(String));
    if (rule !== 'validation_failed')
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ rule })]));
  });

  test('an update is checked against the merged configuration', async () => {
    const full = await createWebhook(o.stack, o.receiver, '/merge', { payload: { type: 'full' } });
    const batch = await o.stack.request('PATCH', `/api/v1/webhooks/${full.id}`, { batching: { mode: 'same_event' } });
    expect(batch.status).toBe(400);
    expect(batch.body.error.code).toBe('batching_requires_non_full_payload');
    const none = await o.stack.request('PATCH', `/api/v1/webhooks/${full.id}`, { events: [] });
    expect(none.body.error.code).toBe('at_least_one_event');
    const get = await o.stack.request('PATCH', `/api/v1/webhooks/${full.id}`, {
      method: 'GET',
      payload: { type: 'small' },
    });
    expect(get.status).toBe(200);
    const batchGet = await o.stack.request('PATCH', `/api/v1/webhooks/${full.id}`, { batching: { mode: 'any_event' } });
    expect(batchGet.body.error.code).toBe('batching_requires_post');
  });

  test('SSRF: loopback, private, link-local and metadata payload URLs are refused unless allow-listed', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://172.16.5.5/hook',
      'http://[::1]:8080/hook',
      'http://0.0.0.0/hook',
      'http://127.0.0.2/hook',
      'file:///etc/passwd',
      'http://user:pw@example.com/hook',
    ]) {
      const res = await o.stack.request('POST', '/api/v1/webhooks', { ...valid(), url });
      expect([url, res.status, res.body.error.code]).toEqual([url, 400, 'blocked_destination']);
    }
    // The test stack allow-lists 127.0.0.1 (OUTBOUND_ALLOWED_HOSTS), which is how the receiver is reached.
    expect((await o.stack.request('POST', '/api/v1/webhooks', valid())).status).toBe(201);
  });
});
