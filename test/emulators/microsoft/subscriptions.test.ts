import { startMicrosoftEmulator } from './index';
import type { MicrosoftEmulator } from './index';
import { appToken, graph, minutesFromNow, startReceiver } from './test-support';
import type { Receiver } from './test-support';

const TENANT = 'contoso-tenant';
const MAILBOX = 'support@contoso.test';
const INBOX = `users/${MAILBOX}/mailFolders('inbox')/messages`;

describe('Microsoft emulator: subscriptions and change notifications', () => {
  let emulator: MicrosoftEmulator;
  let receiver: Receiver;
  let token: string;

  beforeAll(async () => {
    emulator = await startMicrosoftEmulator({
      subscriptionMaxMinutes: 10070,
      notificationDelayMs: 40,
      notificationRetry: { attempts: 3, baseDelayMs: 20 },
      validationTimeoutMs: 300,
    });
    const app = emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.ReadWrite', 'Mail.Send'] });
    emulator.addUser(TENANT, { id: 'support-id', mail: MAILBOX });
    token = await appToken(emulator, app);
  });
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const subscription of emulator.subscriptions()) emulator.removeSubscription(subscription.id);
    emulator.dropNotifications(false);
    await emulator.notificationsIdle();
    await receiver.close();
  });
  afterAll(() => emulator.stop());

  const subscribe = (overrides: Record<string, unknown> = {}) =>
    graph(emulator, token, '/subscriptions', {
      method: 'POST',
      body: {
        changeType: 'created',
        notificationUrl: receiver.url,
        lifecycleNotificationUrl: `${receiver.url}?lifecycle=1`,
        resource: INBOX,
        expirationDateTime: minutesFromNow(60),
        clientState: 'secret-client-state',
        ...overrides,
      },
    });

  it('performs the validation handshake on both URLs before answering 201', async () => {
    const response = await subscribe();
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({
      id: expect.any(String),
      resource: INBOX,
      changeType: 'created',
      clientState: 'secret-client-state',
      notificationUrl: receiver.url,
    });
    expect(receiver.validations).toHaveLength(2);
    // The receiver saw the decoded token, spaces and all.
    expect(receiver.validations[0]).toMatch(/^Validation: Testing client application reachability/);
    expect(emulator.notificationLog().filter((attempt) => attempt.kind === 'validation')).toHaveLength(2);
  });

  it.each([
    ['wrong-body', 'ValidationError', /must exactly match validationToken/],
    ['status-500', 'ValidationError', /must respond with 200 OK/],
    ['silent', 'InvalidRequest', /timed out/],
  ] as const)('refuses the subscription when the endpoint answers %s', async (mode, code, message) => {
    receiver.validationMode = mode;
    const response = await subscribe();
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(emulator.subscriptions()).toHaveLength(0);
  });

  it('enforces the expiration ceiling with Graph’s message', async () => {
    const response = await subscribe({ expirationDateTime: minutesFromNow(10071) });
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({
      code: 'InvalidRequest',
      message: 'Subscription expiration can only be 10070 minutes in the future.',
    });
    expect((await subscribe({ expirationDateTime: minutesFromNow(10069) })).status).toBe(201);
  });

  it('validates the body: https-only URLs, clientState length, supported resources', async () => {
    expect((await subscribe({ notificationUrl: 'http://example.test/hook' })).status).toBe(400);
    expect((await subscribe({ clientState: 'x'.repeat(129) })).status).toBe(400);
    expect((await subscribe({ resource: 'users/support@contoso.test/events' })).status).toBe(400);
    expect((await subscribe({ resource: 'users/stranger@elsewhere.test/messages' })).json.error.code).toBe(
      'ErrorInvalidUser',
    );
  });

  it('delivers notifications in Graph’s shape, batching messages that arrive together', async () => {
    const created = await subscribe();
    const first = emulator.deliverMessage(MAILBOX, { from: 'a@customer.test', subject: 'one', body: '1' });
    emulator.deliverMessage(MAILBOX, { from: 'b@customer.test', subject: 'two', body: '2' });
    emulator.deliverMessage(MAILBOX, { from: 'c@customer.test', subject: 'three', body: '3' });
    await emulator.notificationsIdle();
    expect(receiver.notifications).toHaveLength(1);
    const items = receiver.notifications[0]?.body.value ?? [];
    expect(items).toHaveLength(3);
    expect(items[0]).toEqual({
      subscriptionId: created.json.id,
      subscriptionExpirationDateTime: created.json.expirationDateTime,
      changeType: 'created',
      resource: `Users/support-id/Messages/${first.immutableId}`,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': `Users/support-id/Messages/${first.immutableId}`,
        '@odata.etag': expect.stringMatching(/^W\/"/),
        id: first.immutableId,
      },
      clientState: 'secret-client-state',
      tenantId: TENANT,
    });
    const delivery = emulator.notificationLog().find((attempt) => attempt.kind === 'change');
    expect(delivery).toMatchObject({ status: 202, itemCount: 3, attempt: 1, slow: false });
    expect(delivery?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('retries failed deliveries with back-off and records each attempt', async () => {
    await subscribe();
    receiver.respondWith(500, 2);
    emulator.deliverMessage(MAILBOX, { from: 'a@customer.test', subject: 'retry me', body: '' });
    await emulator.notificationsIdle();
    const attempts = emulator
      .notificationLog()
      .filter((attempt) => attempt.kind === 'change' && attempt.url === receiver.url);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 202],
    ]);
  });

  it('can drop notifications (mail still arrives) and duplicate the next one', async () => {
    await subscribe();
    emulator.dropNotifications(true);
    emulator.deliverMessage(MAILBOX, { from: 'a@customer.test', subject: 'silent', body: '' });
    await emulator.notificationsIdle();
    expect(receiver.notifications).toHaveLength(0);
    expect(emulator.messages(MAILBOX, 'inbox').some((message) => message.subject === 'silent')).toBe(true);

    emulator.dropNotifications(false);
    emulator.duplicateNextNotification();
    emulator.deliverMessage(MAILBOX, { from: 'a@customer.test', subject: 'twice', body: '' });
    await emulator.notificationsIdle();
    expect(receiver.notifications).toHaveLength(2);
    expect(receiver.notifications[1]?.body).toEqual(receiver.notifications[0]?.body);
  });

  it('renews, reads, lists and deletes; a removed subscription answers 404 ResourceNotFound', async () => {
    const id = String((await subscribe()).json.id);
    const renewed = await graph(emulator, token, `/subscriptions/${id}`, {
      method: 'PATCH',
      body: { expirationDateTime: minutesFromNow(120) },
    });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.json.expirationDateTime)).toBeGreaterThan(Date.now() + 119 * 60_000);
    expect((await graph(emulator, token, `/subscriptions/${id}`)).status).toBe(200);
    expect((await graph(emulator, token, '/subscriptions')).json.value).toHaveLength(1);
    expect((await graph(emulator, token, `/subscriptions/${id}/reauthorize`, { method: 'POST' })).status).toBe(204);

    emulator.removeSubscription(id);
    const gone = await graph(emulator, token, `/subscriptions/${id}`, {
      method: 'PATCH',
      body: { expirationDateTime: minutesFromNow(120) },
    });
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('ResourceNotFound');

    const other = String((await subscribe()).json.id);
    expect((await graph(emulator, token, `/subscriptions/${other}`, { method: 'DELETE' })).status).toBe(204);
    expect((await graph(emulator, token, `/subscriptions/${other}`)).status).toBe(404);
  });

  it('expires subscriptions for real at their expiration time', async () => {
    const id = String((await subscribe({ expirationDateTime: new Date(Date.now() + 400).toISOString() })).json.id);
    expect((await graph(emulator, token, `/subscriptions/${id}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await graph(emulator, token, `/subscriptions/${id}`)).status).toBe(404);
    emulator.deliverMessage(MAILBOX, { from: 'a@customer.test', subject: 'too late', body: '' });
    await emulator.notificationsIdle();
    expect(receiver.notifications).toHaveLength(0);
  });

  it('sends lifecycle notifications; subscriptionRemoved also deletes the subscription', async () => {
    const id = String((await subscribe()).json.id);
    await emulator.sendLifecycle(id, 'reauthorizationRequired');
    expect(emulator.subscriptions()[0]?.reauthorizationRequired).toBe(true);
    await emulator.sendLifecycle(id, 'subscriptionRemoved');
    expect(receiver.notifications.map((n) => n.body.value[0])).toEqual([
      expect.objectContaining({ lifecycleEvent: 'reauthorizationRequired', subscriptionId: id, tenantId: TENANT }),
      expect.objectContaining({
        lifecycleEvent: 'subscriptionRemoved',
        clientState: 'secret-client-state',
        organizationId: TENANT,
      }),
    ]);
    expect((await graph(emulator, token, `/subscriptions/${id}`)).status).toBe(404);
  });
});
