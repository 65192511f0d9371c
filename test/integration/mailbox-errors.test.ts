import { eventually } from '../harness/stack';
import {
  createMailbox,
  createOutgoingHelpdesk,
  createSubscribedMailbox,
  HELPDESK,
  processed,
  startMailStack,
  SUPPORT,
  TENANT,
  type MailStack,
} from './mailbox-helpers';

const ONCALL = 'oncall@contoso.test';
let m: MailStack;
let app: { clientId: string; clientSecret: string };
let mailbox: { id: string; name: string };

beforeAll(async () => {
  m = await startMailStack();
  await createOutgoingHelpdesk(m);
  // The support mailbox has an app of its own, so its secret can be revoked alone.
  app = m.emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.ReadWrite', 'Mail.Send'] });
  mailbox = await createSubscribedMailbox(m, {
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    errorRecipients: [ONCALL],
  });
});
afterAll(async () => {
  await m?.stop();
});

const notifications = async (id: string) =>
  (await m.stack.request('GET', `/api/v1/mailboxes/${id}/error-notifications`)).body.data;
const mailTo = (address: string) =>
  m.emulator
    .sentMail()
    .filter((s) =>
      (s.message['toRecipients'] as Array<{ emailAddress: { address: string } }>).some(
        (r) => r.emailAddress.address === address,
      ),
    );

test('a rejected secret fails the email clearly and tells the chosen recipients', async () => {
  m.emulator.revokeSecret(app.clientId);
  // Graph now refuses the cached token, and MSAL cannot get a new one with the revoked secret.
  m.emulator.expireAllTokens();
  const sent = m.emulator.deliverMessage(SUPPORT, { from: 'kim@customer.test', subject: 'Secret gone', body: 'x' });
  const entry = await processed(m, mailbox.id, sent.immutableId);
  expect(entry.status).toBe('failed');
  expect(entry.error).toMatch(/rejected the app's credentials \(invalid_client\)/);

  const told = await eventually(async () => {
    const rows = await notifications(mailbox.id);
    // Notifications are recorded first and then sent: wait until every one has gone out.
    return rows.some((n: { kind: string }) => n.kind === 'credentials_rejected') &&
      rows.some((n: { kind: string }) => n.kind === 'processing_failed') &&
      rows.every((n: { email?: { status?: string } }) => n.email?.status === 'sent')
      ? rows
      : undefined;
  });
  for (const n of told) expect(n).toMatchObject({ recipients: [ONCALL], email: { status: 'sent' } });
  const emails = mailTo(ONCALL);
  expect(emails.map((e) => e.from)).toEqual(expect.arrayContaining([HELPDESK]));
  expect(emails.map((e) => String(e.message['subject'])).join('\n')).toMatch(/rejected the app's client secret/);
  // Each email went through the effect ledger, recorded before it was sent, with a key of its own.
  const keys = emails.map(
    (e) =>
      (e.message['internetMessageHeaders'] as Array<{ name: string; value: string }>).find(
        (h) => h.name === 'X-Idempotency-Key',
      )?.value,
  );
  expect(keys).toHaveLength(told.length);
  expect(new Set(keys.filter(Boolean)).size).toBe(told.length);
  for (const n of told) {
    const { rows } = await m.stack.db.query(
      'SELECT state, delivered, sends, resends_after_unknown FROM activity_effects WHERE key LIKE $1',
      [`outbound:%/notifyMailbox#email:${n.id}`],
    );
    expect(rows).toEqual([{ state: 'completed', delivered: true, sends: 1, resends_after_unknown: 0 }]);
  }
  // …and as a "Mailbox error" event for outgoing webhooks.
  const events = await m.stack.db.query("SELECT data FROM events WHERE type = 'mailbox.error' AND object_id = $1", [
    mailbox.id,
  ]);
  expect(events.rows.map((r: { data: { fields?: { kind?: string } } }) => r.data.fields?.kind ?? r.data)).toEqual(
    expect.arrayContaining(['credentials_rejected']),
  );
});

test('after the secret is replaced, retrying the failed email by hand creates the ticket', async () => {
  const secret = m.emulator.rotateSecret(app.clientId);
  expect((await m.stack.request('PATCH', `/api/v1/mailboxes/${mailbox.id}`, { clientSecret: secret })).status).toBe(
    200,
  );
  const [failed] = (await m.stack.request('GET', `/api/v1/inbound-mail?mailboxId=${mailbox.id}&status=failed`)).body
    .data;
  // The failed email's run may still be finishing its notifications (409 already_processing).
  const retry = await eventually(async () => {
    const res = await m.stack.request('POST', `/api/v1/inbound-mail/${failed.id}/retry`);
    return res.status === 409 && res.body.error.code === 'already_processing' ? undefined : res;
  });
  expect(retry.status).toBe(202);
  const done = await eventually(async () => {
    const res = await m.stack.request('GET', `/api/v1/inbound-mail/${failed.id}`);
    return res.body.status === 'ticket_created' ? res.body : undefined;
  });
  expect(done.manualRetries).toBe(1);
  expect(done.requests.map((r: { trigger: string; status: string }) => [r.trigger, r.status])).toEqual([
    ['automatic', 'failed'],
    ['manual', 'succeeded'],
  ]);
  const again = await m.stack.request('POST', `/api/v1/inbound-mail/${failed.id}/retry`);
  expect(again.status).toBe(409);
});

test('a subscription that cannot be created is answered clearly and notified', async () => {
  const box = await createMailbox(m, {
    name: 'Wrong secret',
    clientId: app.clientId,
    clientSecret: 'definitely-wrong',
    errorRecipients: [ONCALL],
  });
  const res = await m.stack.request('POST', `/api/v1/mailboxes/${box.id}/subscription`);
  expect(res.status).toBe(409);
  expect(res.body.error).toMatchObject({
    code: 'credentials_rejected',
    message: expect.stringMatching(/client secret/),
  });
  const rows = await notifications(box.id);
  expect(rows.map((n: { kind: string }) => n.kind).sort()).toEqual(['credentials_rejected', 'subscription_failed']);
  const shown = (await m.stack.request('GET', `/api/v1/mailboxes/${box.id}`)).body;
  expect(shown.subscription).toMatchObject({ status: 'failed', error: expect.stringMatching(/invalid_client/) });
  expect((await m.stack.request('DELETE', `/api/v1/mailboxes/${box.id}/subscription`)).status).toBe(200);
});

test('validation errors are clear and name the field', async () => {
  const res = await m.stack.request('POST', '/api/v1/mailboxes', {
    name: 'x',
    tenantId: TENANT,
    clientId: 'not-a-guid',
    clientSecret: 's',
    method: 'webhooks',
  });
  expect(res.status).toBe(400);
  expect(res.body.error.message).toMatch(/clientId: must be the application \(client\) id/);
  const missing = await m.stack.request('POST', '/api/v1/mailboxes', {
    name: 'x',
    tenantId: TENANT,
    clientId: app.clientId,
    clientSecret: 's',
    method: 'webhooks',
  });
  expect(missing.status).toBe(400);
  expect(missing.body.error.message).toMatch(/emailAddress: is required for the webhooks method/);
});

test('the address of a mailbox with a live subscription cannot change under it', async () => {
  const res = await m.stack.request('PATCH', `/api/v1/mailboxes/${mailbox.id}`, { emailAddress: HELPDESK });
  expect(res.status).toBe(409);
  expect(res.body.error).toMatchObject({ code: 'subscription_active', message: expect.stringMatching(/emailAddress/) });
  const same = await m.stack.request('PATCH', `/api/v1/mailboxes/${mailbox.id}`, {
    emailAddress: SUPPORT,
    name: 'Support desk',
  });
  expect(same.status).toBe(200);
  expect(same.body).toMatchObject({ name: 'Support desk', hasClientSecret: true });
  expect(same.body).not.toHaveProperty('clientSecret');
});
