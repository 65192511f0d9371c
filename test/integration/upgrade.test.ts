import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/platform/db/migrate';
import { migrations } from '../../src/platform/db/migrations';
import type { Db } from '../../src/platform/db/pool';
import { SecretBox } from '../../src/platform/security/secret-box';
import { createWebhook } from '../../src/outgoing/webhook-service';
import { mergeSettings, webhookCreateSchema } from '../../src/outgoing/webhook-config';
import { emitEvent } from '../../src/outgoing/emit';
import { createGenericIntegration } from '../../src/incoming/integration-service';
import { signGeneric } from '../../src/incoming/generic/webhook';
import { createMailbox } from '../../src/mail/mailbox-service';
import { mailboxAad } from '../../src/mail/graph/msal';
import { Receiver } from '../harness/receiver';
import { ROOT } from '../harness/paths';
import {
  createEmptyDatabase,
  createTestDatabase,
  eventually,
  fetchJson,
  startStack,
  type Stack,
} from '../harness/stack';
import { ticketEvent } from './outgoing-helpers';

/**
 * A database migrated by the previous main (bae6b4d: migrations numbered 1–4, 10, 20, …, 92 and
 * recorded under those ids) upgrades to the one-file-per-migration numbering: nothing runs twice,
 * the schema ends up the same as a fresh one's, and what the old version stored is still served.
 */

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'upgrade', 'bae6b4d-schema.sql');
const masterKey = randomBytes(32).toString('base64');
const box = SecretBox.fromBase64(masterKey);
const SIGNING_SECRET = 'generic-signing-secret-0123456789abcdef';

let receiver: Receiver;
let stack: Stack | undefined;

beforeAll(async () => {
  receiver = await Receiver.start();
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

/** Loads the old schema on its own connection: the dump empties search_path for its session. */
async function loadOldSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(fs.readFileSync(FIXTURE, 'utf8'));
  } finally {
    await client.end();
  }
}

/** Columns, indexes, constraints, triggers, functions and sequences of the public schema. */
async function schemaOf(db: Db) {
  const q = async (sql: string) => (await db.query(sql)).rows;
  return {
    columns:
      await q(`SELECT table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, column_default,
                             is_identity, identity_generation
                        FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 3`),
    indexes: await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2`),
    constraints: await q(`SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
                            FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`),
    triggers: await q(`SELECT tgrelid::regclass::text AS tbl, tgname, pg_get_triggerdef(oid) AS def
                         FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`),
    functions: await q(`SELECT proname, pg_get_function_arguments(oid) AS args, prosrc
                          FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1`),
    sequences: await q(`SELECT sequence_name, data_type, increment FROM information_schema.sequences
                         WHERE sequence_schema = 'public' ORDER BY 1`),
  };
}

/** What the old version had stored: a webhook with two queued deliveries, an integration, a mailbox. */
async function storeAsTheOldVersionDid(db: Db) {
  const body = webhookCreateSchema.parse({
    name: 'upgraded hook',
    url: receiver.url('/upgraded'),
    events: [{ type: 'Ticket Changed' }],
  });
  const { settings, authSecret } = mergeSettings(body, undefined);
  const hook = await createWebhook({ db, secrets: box }, settings, authSecret, undefined);
  receiver.setSecrets('/upgraded', [hook.generatedSecret!]);
  // Accepted and planned, but no lane ran yet: the lane wakes wait in the intake outbox.
  const events = [ticketEvent({ objectId: 'UP-1' }), ticketEvent({ objectId: 'UP-2' })];
  for (const e of events) await emitEvent({ db }, e);

  const integration = await createGenericIntegration(
    { db, secrets: box },
    {
      name: 'upgraded source',
      processingMethod: 'default',
      settings: {},
      enabled: true,
      signingSecret: SIGNING_SECRET,
      // What migration 20 makes of every generic integration that existed: its senders sign the body.
      signatureScheme: 'body-hmac',
    },
  );

  const mailboxId = randomUUID();
  await createMailbox(db, mailboxId, {
    name: 'upgraded mailbox',
    connection_type: 'office365',
    tenant_id: 'contoso-tenant',
    client_id: 'contoso-app',
    secrets_enc: box.encryptJson({ clientSecret: 'mailbox-client-secret' }, mailboxAad.secrets(mailboxId)),
    authority: { kind: 'global' },
    method: 'scan',
    email_address: null,
    mailbox_type: 'standard',
    shared_mailbox: null,
    scan_interval_seconds: 300,
    after_processing: 'mark_read',
    move_to_folder: null,
    error_recipients: [],
    outgoing_default: false,
    enabled: true,
  });
  return { hookId: hook.row.id, integrationId: integration.row.id, mailboxId };
}

const rowsOf = async (db: Db) => ({
  webhooks: (await db.query('SELECT * FROM webhooks ORDER BY id')).rows,
  events: (await db.query('SELECT * FROM events ORDER BY id')).rows,
  deliveries: (await db.query('SELECT * FROM deliveries ORDER BY id')).rows,
  integrations: (await db.query('SELECT * FROM integrations ORDER BY id')).rows,
  mailboxes: (await db.query('SELECT * FROM mailboxes ORDER BY id')).rows,
  intakeJobs: (await db.query('SELECT * FROM intake_jobs ORDER BY id')).rows,
});

test('a database migrated by the previous main upgrades: nothing re-applied, the same schema as a fresh one, its data served', async () => {
  const old = await createEmptyDatabase();
  await loadOldSchema(old.url);
  const before = await old.db.query<{ id: number; name: string; applied_at: Date }>(
    'SELECT id, name, applied_at FROM schema_migrations ORDER BY id',
  );
  expect(before.rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 10, 20, 30, 40, 41, 50, 60, 61, 80, 90, 91, 92]);
  // Today's runner: every old migration is recognised; only those added since run.
  const added = migrations.filter((m) => m.legacyId === undefined).map((m) => m.id);
  expect(await migrate(old.db)).toEqual(added);
  // The data is written by today's services once the schema has caught up (they write the
  // columns the new migrations add), and must then survive every later start.
  const stored = await storeAsTheOldVersionDid(old.db);
  const data = await rowsOf(old.db);
  expect(data.deliveries.map((d) => d.status)).toEqual(['pending', 'pending']);
  expect(data.intakeJobs.length).toBeGreaterThan(0);
  const after = await old.db.query<{ id: number; name: string; applied_at: Date }>(
    'SELECT id, name, applied_at FROM schema_migrations ORDER BY id',
  );
  expect(after.rows.map((r) => [r.id, r.name])).toEqual(migrations.map((m) => [m.id, m.name]));
  // When each one was applied is kept.
  const appliedAt = new Map(before.rows.map((r) => [r.name, r.applied_at.toISOString()]));
  const kept = after.rows.filter((r) => appliedAt.has(r.name));
  expect(kept).toHaveLength(before.rows.length);
  expect(kept.map((r) => r.applied_at.toISOString())).toEqual(kept.map((r) => appliedAt.get(r.name)));
  // A second start finds nothing to do either.
  expect(await migrate(old.db)).toEqual([]);

  const fresh = await createTestDatabase();
  try {
    expect(await schemaOf(old.db)).toEqual(await schemaOf(fresh.db));
  } finally {
    await fresh.drop();
  }
  expect(await rowsOf(old.db)).toEqual(data);

  // The running stack on the upgraded database, with the old version's master key.
  stack = await startStack({ SWITCHYARD_MASTER_KEY: masterKey }, old);

  // The queued deliveries are sent, signed with the webhook's stored key.
  const sent = await receiver.waitFor('/upgraded', 2, 60_000);
  expect(sent.map((r) => r.json.objectId).sort()).toEqual(['UP-1', 'UP-2']);
  expect(sent.map((r) => r.verified)).toEqual([[true], [true]]);
  await eventually(async () => {
    const res = await stack!.request('GET', `/api/v1/webhooks/${stored.hookId}/deliveries`);
    return res.body.data.length === 2 && res.body.data.every((d: { status: string }) => d.status === 'succeeded');
  }, 30_000);

  // The integration's stored signing secret still checks a sender's signature.
  const payload = JSON.stringify({ type: 'Invoice updated', objectId: 'INV-UP', data: {} });
  const accepted = await fetchJson(`${stack.apiUrl}/hooks/generic/${stored.integrationId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-switchyard-signature': signGeneric(payload, SIGNING_SECRET) },
    body: payload,
  });
  expect(accepted.status).toBe(202);
  await eventually(async () => {
    const res = await stack!.request('GET', `/api/v1/incoming-webhooks/${accepted.body.id}`);
    return res.body.status === 'succeeded';
  });

  // The mailbox is listed with its settings and can be changed.
  const mailbox = await stack.request('GET', `/api/v1/mailboxes/${stored.mailboxId}`);
  expect(mailbox.status).toBe(200);
  expect(mailbox.body).toMatchObject({ name: 'upgraded mailbox', method: 'scan', scanIntervalSeconds: 300 });
  const renamed = await stack.request('PATCH', `/api/v1/mailboxes/${stored.mailboxId}`, { name: 'renamed mailbox' });
  expect(renamed.status).toBe(200);
  expect(renamed.body.name).toBe('renamed mailbox');
});
