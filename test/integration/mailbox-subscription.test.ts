import { eventually } from '../harness/stack';
import {
  createMailbox,
  HELPDESK,
  inboundLog,
  processed,
  startMailStack,
  subscribe,
  SUPPORT,
  workflowState,
  type MailStack,
} from './mailbox-helpers';

// Graph here allows 15-second subscriptions; renewing within 10 s of expiry means a renewal every ~7 s.
let m: MailStack;
beforeAll(async () => {
  m = await startMailStack({
    emulator: { subscriptionMaxMinutes: 0.25 },
    env: { MAILBOX_RENEW_BEFORE: '10s', MAILBOX_MAX_CYCLES_PER_RUN: '4' },
  });
});
afterAll(async () => {
  await m?.stop();
});

const liveSubscriptions = () => m.emulator.subscriptions().filter((s) => s.resource.includes(SUPPORT));

test('create, learn the lifetime ceiling, renew several times in a row, continue-as-new, cancel', async () => {
  const mailbox = await createMailbox(m);
  expect(mailbox.notificationUrl).toMatch(new RegExp(`/hooks/graph/${mailbox.id}/notifications$`));
  expect(mailbox).not.toHaveProperty('clientSecret');

  const created = await subscribe(m, mailbox.id);
  expect(created).toMatchObject({
    created: true,
    status: 'active',
    lifetimeMinutes: 0.25,
    resource: `users/${SUPPORT}/mailFolders('inbox')/messages`,
  });
  const [sub] = liveSubscriptions();
  expect(sub).toMatchObject({
    id: created.id,
    notificationUrl: mailbox.notificationUrl,
    lifecycleNotificationUrl: mailbox.lifecycleNotificationUrl,
    immutableIds: true,
  });
  // Graph validated both URLs before it answered 201.
  expect(m.emulator.notificationLog().filter((a) => a.kind === 'validation' && a.status === 200)).toHaveLength(2);

  // Asking again returns the same subscription rather than a second one.
  expect(await subscribe(m, mailbox.id)).toMatchObject({ created: false, id: created.id });

  const firstExpiry = Date.parse(sub!.expirationDateTime.toISOString());
  const state = await eventually(async () => {
    const s = await workflowState(m, mailbox.id);
    return s.renewals >= 4 && s.workflow?.run >= 2 ? s : undefined;
  }, 60_000);
  expect(state.id).toBe(created.id);
  expect(liveSubscriptions().map((s) => s.id)).toEqual([created.id]);
  expect(Date.parse(state.expiresAt)).toBeGreaterThan(firstExpiry);
  // The query shows the same story, carried across continue-as-new.
  expect(state.workflow).toMatchObject({ status: 'active', subscriptionId: created.id, recreations: 0 });
  expect(state.workflow.renewals).toBeGreaterThanOrEqual(3);
  const described = await m.stack.temporal.workflow.getHandle(`mailbox:${mailbox.id}`).describe();
  expect(described.typedSearchAttributes.get({ name: 'SwitchyardMailboxId', type: 'KEYWORD' } as never)).toBe(
    mailbox.id,
  );

  const cancelled = await m.stack.request('DELETE', `/api/v1/mailboxes/${mailbox.id}/subscription`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ deleted: true });
  expect(liveSubscriptions()).toEqual([]);
  const after = await m.stack.request('GET', `/api/v1/mailboxes/${mailbox.id}`);
  expect(after.body.subscription).toMatchObject({ id: null, status: 'cancelled' });
  const result = await m.stack.temporal.workflow.getHandle(`mailbox:${mailbox.id}`).result();
  expect(result.status).toBe('cancelled');
});

describe('recovery', () => {
  let mailbox: { id: string };
  beforeAll(async () => {
    mailbox = await createMailbox(m, { name: 'Recovery' });
    await subscribe(m, mailbox.id);
  });

  test('recreated after Graph drops it, and mail sent in the gap is recovered by delta', async () => {
    const [before] = liveSubscriptions();
    m.emulator.removeSubscription(before!.id);
    const lost = m.emulator.deliverMessage(SUPPORT, {
      from: 'carol@customer.test',
      subject: 'Sent while unsubscribed',
      body: 'hello?',
    });
    const state = await eventually(async () => {
      const s = await workflowState(m, mailbox.id);
      return s.workflow?.recreations >= 1 && s.id !== before!.id ? s : undefined;
    }, 30_000);
    expect(state.workflow.subscriptionId).toBe(state.id);
    expect(liveSubscriptions().map((s) => s.id)).toEqual([state.id]);
    const entry = await processed(m, mailbox.id, lost.internetMessageId);
    expect(entry).toMatchObject({ status: 'ticket_created', source: 'delta' });
  });

  test('reauthorizationRequired is answered by reauthorizing', async () => {
    const [sub] = liveSubscriptions();
    const before = (await workflowState(m, mailbox.id)).workflow.reauthorizations;
    await m.emulator.sendLifecycle(sub!.id, 'reauthorizationRequired');
    await eventually(async () => (await workflowState(m, mailbox.id)).workflow.reauthorizations > before, 20_000);
    expect(liveSubscriptions()[0]).toMatchObject({ id: sub!.id, reauthorizationRequired: false });
  });

  test('missed: notifications lost while dropped are recovered by delta', async () => {
    m.emulator.dropNotifications(true);
    const lost = m.emulator.deliverMessage(SUPPORT, {
      from: 'dave@customer.test',
      subject: 'Dropped notification',
      body: 'x',
    });
    m.emulator.dropNotifications(false);
    const [sub] = liveSubscriptions();
    await m.emulator.sendLifecycle(sub!.id, 'missed');
    expect(await processed(m, mailbox.id, lost.internetMessageId)).toMatchObject({
      status: 'ticket_created',
      source: 'delta',
    });
  });

  test('subscriptionRemoved: recreated, then caught up', async () => {
    const [sub] = liveSubscriptions();
    const before = (await workflowState(m, mailbox.id)).workflow.recreations;
    await m.emulator.sendLifecycle(sub!.id, 'subscriptionRemoved');
    const state = await eventually(async () => {
      const s = await workflowState(m, mailbox.id);
      return s.workflow.recreations > before && s.id === s.workflow.subscriptionId ? s : undefined;
    }, 20_000);
    expect(liveSubscriptions().map((s) => s.id)).toEqual([state.id]);
    expect(state.workflow.recentEvents.map((e: { event: string }) => e.event).join('\n')).toMatch(
      /lifecycle subscriptionRemoved/,
    );
    // Nothing was lost along the way, and nothing was logged twice.
    const log = await inboundLog(m, mailbox.id);
    expect(new Set(log.map((e) => e.graphMessageId)).size).toBe(log.length);
  });
});

test('a changed MAILBOX_RENEW_BEFORE reaches the running mailbox workflow when its worker restarts', async () => {
  const mailbox = await createMailbox(m, { name: 'Settings', emailAddress: HELPDESK });
  await subscribe(m, mailbox.id);
  // How long before expiry the workflow plans its next renewal, as its state shows it.
  const window = (s: { workflow: { expiresAt: string; nextRenewalAt: string } }) =>
    Date.parse(s.workflow.expiresAt) - Date.parse(s.workflow.nextRenewalAt);
  const renewed = (after: number) =>
    eventually(async () => {
      const s = await workflowState(m, mailbox.id);
      return s.workflow?.status === 'active' && s.workflow.renewals > after ? s : undefined;
    }, 30_000);

  // 10 s before a 15-second lifetime: the half-lifetime floor decides, 7.5 s before expiry.
  const before = await renewed(0);
  expect(window(before)).toBeGreaterThan(7000);
  expect(window(before)).toBeLessThan(8000);

  m.stack.env['MAILBOX_RENEW_BEFORE'] = '3s';
  await m.stack.worker.stop();
  await m.stack.worker.start(/worker running/);

  // The same workflow (its counters carried on, not a fresh start) now renews 3 s before expiry.
  const after = await eventually(async () => {
    const s = await renewed(before.workflow.renewals);
    return window(s) < 4000 ? s : undefined;
  }, 40_000);
  expect(window(after)).toBeGreaterThan(2000);
  expect(after.workflow.run).toBeGreaterThanOrEqual(before.workflow.run);
  const chain = await m.stack.temporal.workflow.getHandle(`mailbox:${mailbox.id}`).describe();
  expect(chain.status.name).toBe('RUNNING');
  expect(after.workflow.subscriptionId).toBe(after.id);
});
