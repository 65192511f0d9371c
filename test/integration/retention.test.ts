import { randomUUID } from 'node:crypto';
import type { RetentionResult } from '../../src/retention/workflow-contract';
import { retentionIds } from '../../src/retention/workflow-contract';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';

/**
 * Retention against the real product: rows older than each log's setting go, younger ones and
 * unfinished work stay, tickets are never touched; the Schedule exists and its run reports counts.
 */
let stack: Stack;
const ids: Record<string, string> = {};
const id = (name: string) => (ids[name] ??= randomUUID());

beforeAll(async () => {
  stack = await startStack({ RETENTION_BATCH_SIZE: '2', RETENTION_BATCH_PAUSE: '10ms' });
  const q = (sql: string, args: unknown[] = []) => stack.db.query(sql, args);
  const ago = (days: number) => new Date(Date.now() - days * 86_400_000);

  for (const webhook of ['webhook', 'webhook2', 'webhook3']) {
    await q(
      `INSERT INTO webhooks (id, name, url, config, event_types, secrets_enc) VALUES ($1, 'w', 'http://127.0.0.1:9/', '{}', '{}', 'x')`,
      [id(webhook)],
    );
  }
  for (const [name, days] of [
    ['oldEvent', 100],
    ['oldEventStillDelivering', 100],
    ['newEvent', 1],
  ] as const) {
    await q(
      `INSERT INTO events (id, type, object_type, object_id, data, occurred_at, created_at) VALUES ($1, 't', 'ticket', '1', '{}', $2, $2)`,
      [id(name), ago(days)],
    );
  }
  const delivery = (
    name: string,
    webhook: string,
    event: string,
    created: number,
    finished: number | null,
    status: string,
  ) =>
    q(
      `INSERT INTO deliveries (id, webhook_id, event_id, workflow_id, status, lightweight, payload, created_at, finished_at)
       VALUES ($1, $2, $3, $1::uuid::text, $4, false, '{"a":1}', $5, $6)`,
      [id(name), id(webhook), id(event), status, ago(created), finished === null ? null : ago(finished)],
    );
  await delivery('oldDelivery', 'webhook', 'oldEventStillDelivering', 100, 95, 'succeeded');
  await delivery('oldRetrying', 'webhook2', 'oldEventStillDelivering', 100, null, 'retrying');
  await delivery('newDelivery', 'webhook', 'newEvent', 40, 39, 'failed');
  const attempt = (delivery: string, n: number, days: number) =>
    q(
      `INSERT INTO delivery_attempts (delivery_id, attempt, status, started_at, finished_at, request, response_status, response_headers, response_body)
       VALUES ($1, $2, 'failed', $3, $3, '{"body":"hello"}', 500, '{"x":"y"}', 'oops')`,
      [id(delivery), n, ago(days)],
    );
  await attempt('oldDelivery', 1, 95);
  await attempt('newDelivery', 1, 40);
  await attempt('newDelivery', 2, 1);

  for (const [name, days] of [
    ['oldRequest', 91],
    ['oldRequest2', 120],
    ['newRequest', 80],
  ] as const) {
    await q(
      `INSERT INTO inbound_requests (provider, method, path, headers, body, body_bytes, response_status, outcome, received_at)
       VALUES ('generic', 'POST', $1, '{}', 'body', 4, 202, 'accepted', $2)`,
      [`/hooks/generic/${name}`, ago(days)],
    );
  }

  await q(
    `INSERT INTO integrations (id, provider, name, processing_method, secrets_enc) VALUES ($1, 'generic', 'i', 'service_immediate', 'x')`,
    [id('integration')],
  );
  const incoming = (name: string, status: string, days: number) =>
    q(
      `INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, processing_method, status, attempts_allowed, workflow_id, payload, received_at)
       VALUES ($1, $2, 'generic', $1::uuid::text, 'service_immediate', $3, 3, $1::uuid::text, '{}', $4)`,
      [id(name), id('integration'), status, ago(days)],
    );
  await incoming('oldIncoming', 'succeeded', 100);
  await incoming('oldIncomingStuck', 'processing', 100);
  await incoming('newIncoming', 'failed', 10);
  await q(`INSERT INTO incoming_webhook_attempts (webhook_id, attempt, status) VALUES ($1, 1, 'succeeded')`, [
    id('oldIncoming'),
  ]);

  await q(
    `INSERT INTO mailboxes (id, name, tenant_id, client_id, secrets_enc, authority, method, email_address)
     VALUES ($1, 'm', 't', 'c', 'x', '{"kind":"global"}', 'webhooks', 'support@example.test')`,
    [id('mailbox')],
  );
  await q(`INSERT INTO tickets (id, mailbox_id, summary, details, created_at) VALUES ($1, $2, 'old ticket', '', $3)`, [
    id('ticket'),
    id('mailbox'),
    ago(400),
  ]);
  const mail = (name: string, status: string, days: number, retryAt: Date | null) =>
    q(
      `INSERT INTO inbound_mail (id, mailbox_id, graph_message_id, source, status, workflow_id, ticket_id, first_seen_at, processed_at, next_retry_at)
       VALUES ($1, $2, $1::uuid::text, 'notification', $3, $1::uuid::text, $4, $5, $5, $6)`,
      [id(name), id('mailbox'), status, id('ticket'), ago(days), retryAt],
    );
  await mail('oldMail', 'ticket_created', 100, null);
  await mail('oldMailAwaitingRetry', 'failed', 100, new Date(Date.now() + 3_600_000));
  await mail('newMail', 'duplicate', 5, null);
  await q(
    `INSERT INTO inbound_mail_requests (mail_id, attempt, trigger, status, raw) VALUES ($1, 1, 'automatic', 'succeeded', '{}')`,
    [id('oldMail')],
  );
  await q(
    `INSERT INTO ticket_messages (id, ticket_id, direction, inbound_mail_id, internet_message_id, subject, body_type, body, status)
     VALUES ($1, $2, 'inbound', $3, '<old@x>', 'old', 'text', 'kept', 'received')`,
    [id('ticketMessage'), id('ticket'), id('oldMail')],
  );

  // Exactly-once records go by when they were last written (7 days by default): an activity's
  // stored outcome and a forward's ledger row, old and recent, and one created long ago but
  // re-sent yesterday (its workflow may still need it).
  const effect = (key: string, state: string, created: number, updated: number) =>
    q(`INSERT INTO activity_effects (key, result, state, created_at, updated_at) VALUES ($1, '{}', $2, $3, $4)`, [
      key,
      state,
      ago(created),
      ago(updated),
    ]);
  await effect('old-wf/run/1', 'completed', 10, 10);
  await effect('outbound:old-wf/processIncomingWebhook#forward', 'started', 9, 8);
  await effect('new-wf/run/1', 'completed', 1, 1);
  await effect('outbound:busy-wf/processIncomingWebhook#forward', 'completed', 30, 1);
});
afterAll(async () => {
  await stack?.stop();
});

const count = async (sql: string, args: unknown[] = []) => Number((await stack.db.query(sql, args)).rows[0].n);
const EXPECTED = {
  attempt_bodies: 2, // the 95-day-old and the 40-day-old attempt lose their bodies
  deliveries: 1,
  events: 1,
  inbound_requests: 2,
  incoming_webhooks: 1,
  mail_log: 1,
  activity_effects: 2,
};

test('a dry run counts what is past each setting and prunes nothing', async () => {
  const result = (await stack.temporal.workflow.execute('retentionWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: retentionIds.manual(stack.taskQueue, 'dry-run'),
    args: [{ dryRun: true }],
  })) as RetentionResult;
  expect(result.dryRun).toBe(true);
  expect(result.pruned).toEqual(EXPECTED);
  expect(await count('SELECT count(*) AS n FROM inbound_requests')).toBe(3);
  expect(await count('SELECT count(*) AS n FROM delivery_attempts WHERE response_body IS NOT NULL')).toBe(3);
});

test('the daily Schedule prunes only what is older than the setting, and reports it', async () => {
  const handle = stack.temporal.schedule.getHandle(retentionIds.schedule(stack.taskQueue));
  const described = await handle.describe();
  expect(described.spec.intervals?.[0]?.every).toBe(86_400_000);
  await handle.trigger();
  const action = await eventually(async () => (await handle.describe()).info.recentActions[0]);
  const result = (await stack.temporal.workflow
    .getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId)
    .result()) as RetentionResult;
  expect(result.dryRun).toBe(false);
  expect(result.pruned).toEqual(EXPECTED);
  expect(result.plan.map((p) => p.log)).toEqual([
    'attempt_bodies',
    'deliveries',
    'events',
    'inbound_requests',
    'incoming_webhooks',
    'mail_log',
    'activity_effects',
  ]);

  const exists = (table: string, rowId: string) => count(`SELECT count(*) AS n FROM ${table} WHERE id = $1`, [rowId]);
  expect(await exists('events', id('oldEvent'))).toBe(0);
  expect(await exists('events', id('oldEventStillDelivering'))).toBe(1); // a delivery still refers to it
  expect(await exists('events', id('newEvent'))).toBe(1);
  expect(await exists('deliveries', id('oldDelivery'))).toBe(0);
  expect(await exists('deliveries', id('oldRetrying'))).toBe(1); // unfinished work is never pruned
  expect(await exists('deliveries', id('newDelivery'))).toBe(1);
  expect(
    (
      await stack.db.query(
        'SELECT attempt, request, response_body, response_headers, response_status FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
        [id('newDelivery')],
      )
    ).rows,
  ).toEqual([
    { attempt: 1, request: null, response_body: null, response_headers: null, response_status: 500 },
    {
      attempt: 2,
      request: { body: 'hello' },
      response_body: 'oops',
      response_headers: { x: 'y' },
      response_status: 500,
    },
  ]);
  expect(await count('SELECT count(*) AS n FROM inbound_requests')).toBe(1);
  expect(await exists('incoming_webhooks', id('oldIncoming'))).toBe(0);
  expect(await count('SELECT count(*) AS n FROM incoming_webhook_attempts')).toBe(0);
  expect(await exists('incoming_webhooks', id('oldIncomingStuck'))).toBe(1);
  expect(await exists('incoming_webhooks', id('newIncoming'))).toBe(1);
  expect(await exists('inbound_mail', id('oldMail'))).toBe(0);
  expect(await count('SELECT count(*) AS n FROM inbound_mail_requests')).toBe(0);
  expect(await exists('inbound_mail', id('oldMailAwaitingRetry'))).toBe(1);
  expect(await exists('inbound_mail', id('newMail'))).toBe(1);
  const effects = await stack.db.query('SELECT key FROM activity_effects WHERE key LIKE $1 ORDER BY key', ['%-wf/%']);
  expect(effects.rows.map((r) => r.key)).toEqual(['new-wf/run/1', 'outbound:busy-wf/processIncomingWebhook#forward']);
  // Tickets and their messages are business data: kept, unlinked from the pruned log entry.
  expect(await exists('tickets', id('ticket'))).toBe(1);
  expect(
    (await stack.db.query('SELECT inbound_mail_id FROM ticket_messages WHERE id = $1', [id('ticketMessage')])).rows,
  ).toEqual([{ inbound_mail_id: null }]);

  const metrics = await fetchJson(`${stack.apiUrl}/metrics`);
  expect(metrics.text).toContain('switchyard_retention_pruned_rows_total{log="inbound_requests"} 2');
  expect(metrics.text).toContain('switchyard_retention_pruned_rows_total{log="deliveries"} 1');
  expect(metrics.text).toMatch(/switchyard_retention_last_run_timestamp_seconds \d+/);
});

test('lightweight-log deliveries keep no payload once finished', async () => {
  const lightId = randomUUID();
  await stack.db.query(
    `INSERT INTO deliveries (id, webhook_id, event_id, workflow_id, status, lightweight, payload)
     VALUES ($1, $2, $3, $1::uuid::text, 'pending', true, '{"secret":"body"}')`,
    [lightId, id('webhook3'), id('newEvent')],
  );
  // Needed to send it while it is in flight...
  expect(
    (await stack.db.query('SELECT payload FROM deliveries WHERE id = $1', [lightId])).rows[0].payload,
  ).not.toBeNull();
  await stack.db.query(`UPDATE deliveries SET status = 'succeeded', finished_at = now() WHERE id = $1`, [lightId]);
  // ...and gone the moment it has finished, whatever code finished it.
  expect((await stack.db.query('SELECT payload FROM deliveries WHERE id = $1', [lightId])).rows[0].payload).toBeNull();
});

test('a lightweight-log batch keeps no item bodies once its delivery has finished', async () => {
  const batchId = randomUUID();
  const itemId = randomUUID();
  await stack.db.query(
    `INSERT INTO deliveries (id, webhook_id, event_id, group_key, workflow_id, status, lightweight, payload, item_count)
     VALUES ($1, $2, NULL, 'all', $1::uuid::text, 'pending', true, '[{"secret":"body"}]', 1)`,
    [batchId, id('webhook3')],
  );
  await stack.db.query(
    `INSERT INTO batch_items (id, webhook_id, event_id, group_key, event_type, item, delivery_id)
     VALUES ($1, $2, $3, 'all', 'Ticket Changed', '{"secret":"body"}', $4)`,
    [itemId, id('webhook3'), id('newEvent'), batchId],
  );
  const itemBody = async () =>
    (await stack.db.query('SELECT item FROM batch_items WHERE id = $1', [itemId])).rows[0].item as unknown;
  expect(await itemBody()).toEqual({ secret: 'body' });
  await stack.db.query(`UPDATE deliveries SET status = 'succeeded', finished_at = now() WHERE id = $1`, [batchId]);
  expect(await itemBody()).toBeNull();
});
