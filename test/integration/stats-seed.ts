import { randomUUID } from 'node:crypto';
import type { Stack } from '../harness/stack';

/**
 * Rows with known timestamps for the overview's aggregates, written straight into the suite's
 * database (the counts and latencies must be exact; real deliveries would not be). Webhooks and
 * integrations go through the API so the rows they own are the product's own.
 */
export interface Seed {
  /** Start of the hour the newest rows sit in (as the database sees it). */
  hourStart: Date;
  webhookA: { id: string; name: string };
  webhookB: { id: string; name: string };
  integrationId: string;
  mailboxId: string;
}

async function createWebhook(stack: Stack, name: string) {
  const res = await stack.request('POST', '/api/v1/webhooks', {
    name,
    url: 'http://127.0.0.1:9/never-called',
    events: [{ type: 'Ticket Changed' }],
  });
  if (res.status !== 201) throw new Error(`webhook not created: ${res.status} ${res.text}`);
  return { id: res.body.id as string, name };
}

export async function seedOverview(stack: Stack): Promise<Seed> {
  const { db } = stack;
  const webhookA = await createWebhook(stack, `Alpha feed ${randomUUID().slice(0, 6)}`);
  const webhookB = await createWebhook(stack, `Bravo feed ${randomUUID().slice(0, 6)}`);
  const integration = await stack.request('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'Seeded relay',
  });
  if (integration.status !== 201) throw new Error(`integration not created: ${integration.text}`);
  const integrationId = integration.body.id as string;
  const hourStart = (await db.query<{ h: Date }>(`SELECT date_trunc('hour', now()) AS h`)).rows[0]!.h;

  // Deliveries: [webhook, status, hours before hourStart, latency ms (succeeded only), error]
  const deliveries: Array<[string, string, number, number | null, string | null]> = [
    [webhookA.id, 'succeeded', 0, 100, null],
    [webhookA.id, 'succeeded', 0, 200, null],
    [webhookA.id, 'succeeded', 0, 300, null],
    [webhookA.id, 'succeeded', 0, 400, null],
    [webhookA.id, 'failed', 0, null, 'connect ECONNREFUSED 127.0.0.1:9'],
    [webhookA.id, 'retrying', 0, null, null],
    [webhookA.id, 'succeeded', 1, 1000, null],
    [webhookA.id, 'succeeded', 1, 1000, null],
    [webhookA.id, 'failed', 1, null, 'HTTP 500 from receiver'],
    [webhookB.id, 'held', 0, null, null],
    [webhookB.id, 'succeeded', 0, 5000, null],
    [webhookB.id, 'succeeded', 48, 50, null],
  ];
  let n = 0;
  for (const [webhookId, status, hoursBack, latency, error] of deliveries) {
    n++;
    // Failures are seconds apart so "newest first" is well defined; created at the hour's start.
    await db.query(
      `INSERT INTO deliveries (id, webhook_id, group_key, event_type, object_id, workflow_id, status, lightweight,
         last_error, created_at, finished_at, updated_at)
       VALUES ($1, $2, $3, 'ticket.changed', $4, $5, $6, false, $7,
         $8::timestamptz - $9 * interval '1 hour',
         CASE WHEN $10::int IS NULL THEN NULL ELSE $8::timestamptz - $9 * interval '1 hour' + $10 * interval '1 millisecond' END,
         $8::timestamptz - $9 * interval '1 hour' + $11 * interval '1 second')`,
      [
        randomUUID(),
        webhookId,
        `seed-${n}`,
        `T-${n}`,
        `seed-delivery-${n}`,
        status,
        error,
        hourStart,
        hoursBack,
        latency,
        n,
      ],
    );
  }

  // Incoming webhooks: [status, hours before hourStart, error]
  const incoming: Array<[string, number, string | null]> = [
    ['succeeded', 0, null],
    ['succeeded', 0, null],
    ['succeeded', 2, null],
    ['failed', 0, 'forward answered 502'],
    ['failed', 2, 'forward timed out'],
    ['queued', 0, null],
    ['stale', 0, null],
    ['cancelled', 0, null],
  ];
  for (const [status, hoursBack, error] of incoming) {
    n++;
    await db.query(
      `INSERT INTO incoming_webhooks (id, integration_id, provider, delivery_key, event_type, entity_id, processing_method,
         status, attempts_allowed, workflow_id, payload, error, received_at, updated_at)
       VALUES ($1, $2, 'generic', $3, 'Invoice updated', $4, 'default', $5, 3, $6, '{}', $7,
         $8::timestamptz - $9 * interval '1 hour', $8::timestamptz - $9 * interval '1 hour' + $10 * interval '1 second')`,
      [
        randomUUID(),
        integrationId,
        `seed-${n}`,
        `INV-${n}`,
        status,
        `seed-incoming-${n}`,
        error,
        hourStart,
        hoursBack,
        n,
      ],
    );
  }

  const mailboxId = randomUUID();
  await db.query(
    `INSERT INTO mailboxes (id, name, tenant_id, client_id, secrets_enc, authority, method, email_address,
       subscription_status, subscription_expires_at, subscription_renewed_at)
     VALUES ($1, 'Support inbox', 't', 'c', 'x', '{}', 'webhooks', 'support@contoso.test', 'active',
       now() + interval '2 hours', now() - interval '1 day'),
       ($2, 'Scanned inbox', 't', 'c', 'x', '{}', 'scan', 'scan@contoso.test', 'none', NULL, NULL)`,
    [mailboxId, randomUUID()],
  );
  await db.query(
    `INSERT INTO inbound_mail (id, mailbox_id, graph_message_id, source, status, subject, from_address, error,
       workflow_id, updated_at)
     VALUES ($1, $2, 'g-1', 'notification', 'failed', 'Cannot print', 'alice@customer.test', 'Graph answered 503',
       'seed-mail-1', $3::timestamptz + interval '30 seconds')`,
    [randomUUID(), mailboxId, hourStart],
  );
  const ticketId = randomUUID();
  await db.query(`INSERT INTO tickets (id, mailbox_id, summary, details) VALUES ($1, $2, 'Cannot print', '')`, [
    ticketId,
    mailboxId,
  ]);
  // Same instant as a delivery failure: the keyset must still order and page them without loss.
  await db.query(
    `INSERT INTO ticket_messages (id, ticket_id, direction, mailbox_id, subject, body_type, body, status, error, created_at)
     VALUES ($1, $2, 'outbound', $3, 'RE: Cannot print', 'text', 'On it', 'failed', 'Mail.Send denied', $4::timestamptz + interval '5 seconds')`,
    [randomUUID(), ticketId, mailboxId, hourStart],
  );
  return { hourStart, webhookA, webhookB, integrationId, mailboxId };
}
