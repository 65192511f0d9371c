import { SA } from '../../src/platform/temporal/search-attributes';
import type { RecordedRequest } from '../harness/receiver';
import { eventually } from '../harness/stack';
import {
  createWebhook,
  deliveries,
  emit,
  ENTITY_EVENT_TYPES,
  startOutgoingStack,
  ticketEvent,
} from './outgoing-helpers';
import type { OutgoingStack } from './outgoing-helpers';

let o: OutgoingStack;

beforeAll(async () => {
  o = await startOutgoingStack({ DELIVERY_RETRY_SCHEDULE: '1s' });
});
afterAll(() => o?.stop());

const ENVELOPE_KEYS = ['id', 'notificationId', 'messageId', 'event', 'eventType', 'webhookId', 'objectId', 'timestamp'];

test('an accepted event is delivered once, signed, with the envelope; the event shows where it went', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/basic');
  const eventId = await emit(o.stack, ticketEvent({ objectId: 'T-100' }));
  const [req] = await o.receiver.waitFor('/basic', 1);
  expect(req!.method).toBe('POST');
  expect(req!.verified).toEqual([true]);
  expect(req!.headers['content-type']).toBe('application/json');
  const ds = await deliveries(o.stack, hook.id);
  expect(ds).toHaveLength(1);
  expect(req!.headers['webhook-id']).toBe(ds[0].id);
  expect(Object.keys(req!.json).slice(0, ENVELOPE_KEYS.length)).toEqual(ENVELOPE_KEYS);
  expect(req!.json).toMatchObject({
    id: ds[0].id,
    notificationId: eventId,
    messageId: ds[0].id,
    event: 'Ticket Changed',
    eventType: 'ticket.changed',
    webhookId: hook.id,
    objectId: 'T-100',
  });
  const ev = await eventually(async () => {
    const r = await o.stack.request('GET', `/api/v1/events/${eventId}`);
    return r.body.deliveries?.[0]?.status === 'succeeded' ? r.body : undefined;
  });
  expect(ev).toMatchObject({ type: 'ticket.changed', name: 'Ticket Changed', objectId: 'T-100' });
  expect(ev.deliveries.map((d: { id: string }) => d.id)).toEqual([ds[0].id]);
});

test('each payload type, with ID-versus-display values on a custom payload', async () => {
  const hooks = {
    small: await createWebhook(o.stack, o.receiver, '/p-small', { payload: { type: 'small' } }),
    full: await createWebhook(o.stack, o.receiver, '/p-full', { payload: { type: 'full' } }),
    eventOnly: await createWebhook(o.stack, o.receiver, '/p-event', { payload: { type: 'event_only' } }),
    custom: await createWebhook(o.stack, o.receiver, '/p-custom', {
      payload: {
        type: 'custom',
        fields: [{ field: 'status', sendId: true }, { field: 'priority', sendId: false }, { field: 'summary' }],
      },
    }),
  };
  const previous = { status: { id: 1, display: 'New' } };
  const event = ticketEvent({ objectId: 'T-200', previous });
  await emit(o.stack, event);
  const [small, full, eventOnly, custom] = (await Promise.all(
    ['/p-small', '/p-full', '/p-event', '/p-custom'].map(async (p) => (await o.receiver.waitFor(p, 1))[0]!),
  )) as [RecordedRequest, RecordedRequest, RecordedRequest, RecordedRequest];
  for (const r of [small, full, eventOnly, custom]) expect(r.verified).toEqual([true]);

  expect(small.json.object).toEqual({
    id: 'T-200',
    summary: 'Printer on fire',
    status: 'In Progress',
    priority: 'P1',
    client: 'Acme',
  });
  expect(full.json.object).toEqual({ id: 'T-200', ...event.object.fields });
  expect(full.json.linked).toEqual(event.object.linked);
  expect(full.json.previous).toEqual(previous);
  expect(Object.keys(eventOnly.json)).toEqual(ENVELOPE_KEYS);
  expect(eventOnly.json).toMatchObject({ objectId: 'T-200', event: 'Ticket Changed' });
  expect(custom.json.object).toEqual({ id: 'T-200', status: 3, priority: 'P1', summary: 'Printer on fire' });
  expect(custom.json.webhookId).toBe(hooks.custom.id);
});

test('a GET webhook sends the envelope as query parameters and signs the query string', async () => {
  await createWebhook(o.stack, o.receiver, '/get', { method: 'GET', url: `${o.receiver.url('/get')}?token=abc` });
  const eventId = await emit(o.stack, ticketEvent({ objectId: 'T-300' }));
  const [req] = await o.receiver.waitFor('/get', 1);
  expect(req!.method).toBe('GET');
  expect(req!.body).toBe('');
  expect(req!.verified).toEqual([true]);
  expect(req!.query).toMatchObject({
    token: 'abc',
    objectId: 'T-300',
    notificationId: eventId,
    event: 'Ticket Changed',
  });
  expect(Object.keys(req!.query)).toEqual(['token', ...ENVELOPE_KEYS]);
});

test('each condition operator decides which events a webhook receives', async () => {
  const cond = (operator: string, field: string, value?: unknown) => ({
    events: [
      { type: 'Ticket Changed', conditions: [value === undefined ? { field, operator } : { field, operator, value }] },
    ],
  });
  const cases: Array<[string, Record<string, unknown>]> = [
    ['equals', cond('equals', 'status', 'Closed')],
    ['equals-id', cond('equals', 'status', 9)],
    ['not_equals', cond('not_equals', 'status', 'Closed')],
    ['in', cond('in', 'priority', ['P1', 'P2'])],
    ['not_in', cond('not_in', 'priority', ['P1', 'P2'])],
    ['contains', cond('contains', 'summary', 'fire')],
    ['not_contains', cond('not_contains', 'summary', 'fire')],
    ['greater_than', cond('greater_than', 'deadline', '2026-06-01T00:00:00Z')],
    ['less_than', cond('less_than', 'deadline', '2026-06-01T00:00:00Z')],
    ['is_blank', cond('is_blank', 'team')],
    ['is_not_blank', cond('is_not_blank', 'team')],
    ['changed', cond('changed', 'status')],
    ['changed_to', cond('changed_to', 'status', 'Closed')],
  ];
  const hookIds: Record<string, string> = {};
  for (const [name, body] of cases) hookIds[name] = (await createWebhook(o.stack, o.receiver, `/op-${name}`, body)).id;
  const anyHook = await createWebhook(o.stack, o.receiver, '/op-any', {
    events: [
      {
        type: 'Ticket Changed',
        match: 'any',
        conditions: [
          { field: 'status', operator: 'equals', value: 'Closed' },
          { field: 'summary', operator: 'contains', value: 'fire' },
        ],
      },
    ],
  });
  hookIds['any'] = anyHook.id;

  /** A ticket event with exactly these fields. */
  const ticket = (objectId: string, fields: Record<string, unknown>, over: Record<string, unknown> = {}) =>
    ticketEvent({ objectId, object: { fields }, ...over });
  const option = (id: number, display: string) => ({ id, display });
  // A: closed (id 9), P3, about a flood, late deadline, a team, status changed from New.
  const a = ticket(
    'A',
    {
      summary: 'Basement flood',
      status: option(9, 'Closed'),
      priority: option(3, 'P3'),
      deadline: '2026-12-01T00:00:00Z',
      team: option(2, 'Facilities'),
    },
    { previous: { status: option(1, 'New') } },
  );
  // B: in progress, P1, about a fire, early deadline, no team, no previous values.
  const b = ticket('B', {
    summary: 'Printer on fire',
    status: option(3, 'In Progress'),
    priority: option(1, 'P1'),
    deadline: '2026-01-15T00:00:00Z',
  });
  await emit(o.stack, a);
  await emit(o.stack, b);

  const expected: Record<string, string[]> = {
    equals: ['A'],
    'equals-id': ['A'],
    not_equals: ['B'],
    in: ['B'],
    not_in: ['A'],
    contains: ['B'],
    not_contains: ['A'],
    greater_than: ['A'],
    less_than: ['B'],
    is_blank: ['B'],
    is_not_blank: ['A'],
    changed: ['A'],
    changed_to: ['A'],
    any: ['A', 'B'],
  };
  // Every webhook's deliveries are planned in the same dispatch; wait until all are finished.
  const got = await eventually(async () => {
    const out: Record<string, string[]> = {};
    for (const [name, id] of Object.entries(hookIds)) {
      const ds = await deliveries(o.stack, id);
      if (ds.some((d) => d.status !== 'succeeded')) return undefined;
      out[name] = ds.map((d) => d.objectId).sort();
    }
    const total = Object.values(out).reduce((n, v) => n + v.length, 0);
    return total === Object.values(expected).reduce((n, v) => n + v.length, 0) ? out : undefined;
  });
  expect(got).toEqual(expected);
  for (const name of Object.keys(expected)) {
    expect([
      name,
      o.receiver
        .requests(`/op-${name}`)
        .map((r) => r.json.objectId)
        .sort(),
    ]).toEqual([name, expected[name]]);
  }
});

test('an idempotency key makes a repeated event one event', async () => {
  await createWebhook(o.stack, o.receiver, '/idem');
  const event = ticketEvent({ idempotencyKey: 'halo:ticket:42:v7' });
  const first = await o.stack.request('POST', '/api/v1/events', event);
  const second = await o.stack.request('POST', '/api/v1/events', event);
  expect([first.status, second.status]).toEqual([202, 202]);
  expect(second.body).toMatchObject({ id: first.body.id, duplicate: true });
  await o.receiver.waitFor('/idem', 1);
  await new Promise((r) => setTimeout(r, 1500));
  expect(o.receiver.requests('/idem')).toHaveLength(1);
});

test('the event catalogue lists the seeds\u2019 events with their fields', async () => {
  const res = await o.stack.request('GET', '/api/v1/event-types');
  expect(res.status).toBe(200);
  const names = res.body.data.map((t: { name: string }) => t.name);
  for (const n of [
    'New Ticket Logged',
    'Ticket Changed',
    'Ticket Reassigned',
    ...ENTITY_EVENT_TYPES,
    'Webhook disabled',
  ]) {
    expect(names).toContain(n);
  }
  const ticket = res.body.data.find((t: { key: string }) => t.key === 'ticket.changed');
  expect(ticket.fields).toEqual(expect.arrayContaining([{ name: 'status', type: 'single_select', key: true }]));
  // The console's conditions editor takes its operators from here.
  expect(res.body.conditionOperators).toEqual(
    expect.arrayContaining([
      { operator: 'equals', value: 'single' },
      { operator: 'in', value: 'list' },
      { operator: 'changed', value: 'none' },
    ]),
  );
});

test('malformed and unknown events are refused', async () => {
  const unknown = await o.stack.request('POST', '/api/v1/events', ticketEvent({ type: 'Ticket Exploded' }));
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.code).toBe('unknown_event_type');
  const missing = await o.stack.request('POST', '/api/v1/events', { type: 'Ticket Changed' });
  expect(missing.status).toBe(400);
  expect(missing.body.error.code).toBe('validation_failed');
  expect(missing.body.error.message).toMatch(/objectId/);
  const extra = await o.stack.request('POST', '/api/v1/events', { ...ticketEvent(), surprise: true });
  expect(extra.status).toBe(400);
});

test('the webhook\u2019s lane carries its id as a search attribute; each delivery links to its lane', async () => {
  const hook = await createWebhook(o.stack, o.receiver, '/sa');
  await emit(o.stack, ticketEvent({ objectId: 'SA-1' }));
  await o.receiver.waitFor('/sa', 1);
  const [d] = await deliveries(o.stack, hook.id);
  expect(d.workflowId).toBe(`webhook:${hook.id}`);
  expect(d.workflowUrl).toContain(encodeURIComponent(`webhook:${hook.id}`));
  const lane = await o.stack.temporal.workflow.getHandle(d.workflowId).describe();
  expect(lane.type).toBe('webhookLane');
  expect(lane.typedSearchAttributes.get(SA.webhookId)).toBe(hook.id);
  const found = await eventually(async () => {
    const ids = new Set<string>();
    for await (const wf of o.stack.temporal.workflow.list({ query: `SwitchyardWebhookId = '${hook.id}'` }))
      ids.add(wf.workflowId);
    return ids.size > 0 ? [...ids] : undefined;
  });
  expect(found).toEqual([d.workflowId]);
});
