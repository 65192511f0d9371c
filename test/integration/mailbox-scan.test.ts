import { eventually } from '../harness/stack';
import {
  AGENT,
  createMailbox,
  processed,
  signIn,
  startMailStack,
  SUPPORT,
  TENANT,
  type MailStack,
} from './mailbox-helpers';

let m: MailStack;
let mailbox: { id: string };

beforeAll(async () => {
  m = await startMailStack({
    env: { MAILBOX_SCAN_MIN_INTERVAL_SECONDS: '1', MAIL_SCHEDULER_RETRIES: '1', MAIL_SCHEDULER_RETRY_BASE: '2s' },
  });
  m.emulator.setAuthorizeBehaviour({ outcome: 'approve', user: AGENT });
  mailbox = await createMailbox(m, {
    name: 'Agent inbox (scan)',
    method: 'scan',
    emailAddress: undefined,
    scanIntervalSeconds: 2,
    errorRecipients: ['oncall@contoso.test'],
  });
});
afterAll(async () => {
  await m?.stop();
});

test('delegated sign-in persists an encrypted token cache and a schedule scans with delta', async () => {
  const before = await m.stack.request('POST', `/api/v1/mailboxes/${mailbox.id}/import`);
  expect(before.status).toBe(409);
  expect(before.body.error).toMatchObject({
    code: 'reauthorization_required',
    message: expect.stringMatching(/authorize the application/),
  });

  const callback = await signIn(m, mailbox.id);
  expect(callback.status).toBe(200);
  expect(callback.text).toContain(`Connected as ${AGENT}`);
  const shown = (await m.stack.request('GET', `/api/v1/mailboxes/${mailbox.id}`)).body;
  expect(shown.connection).toMatchObject({ status: 'connected', account: AGENT });
  expect(shown.scanIntervalSeconds).toBe(2);
  const stored = (await m.stack.db.query('SELECT token_cache_enc FROM mailboxes WHERE id = $1', [mailbox.id])).rows[0]
    .token_cache_enc;
  expect(stored).toMatch(/^v2:/);
  expect(stored).not.toMatch(/RefreshToken|AccessToken/);

  const schedule = await m.stack.temporal.schedule.getHandle(`mailbox-scan:${mailbox.id}`).describe();
  expect(schedule.spec.intervals?.[0]?.every).toBe(2000);

  const sent = m.emulator.deliverMessage(AGENT, {
    from: 'gina@customer.test',
    subject: 'Scanned',
    body: 'found by the schedule',
  });
  expect(await processed(m, mailbox.id, sent.internetMessageId)).toMatchObject({
    status: 'ticket_created',
    source: 'scan',
  });
});

test('after a 401 and a worker restart, tokens are refreshed from the persisted cache', async () => {
  m.emulator.expireAllTokens();
  expect(await m.stack.worker.stop('SIGKILL')).toBeNull();
  await m.stack.worker.start(/worker running/);
  const refreshes = m.emulator.stats().tokensIssued;
  const sent = m.emulator.deliverMessage(AGENT, {
    from: 'hank@customer.test',
    subject: 'After restart',
    body: 'still scanned',
  });
  expect(await processed(m, mailbox.id, sent.internetMessageId, 60_000)).toMatchObject({ status: 'ticket_created' });
  expect(m.emulator.stats().tokensIssued).toBeGreaterThan(refreshes);
});

test('"import emails now" imports through the same delegated tokens', async () => {
  const sent = m.emulator.deliverMessage(AGENT, { from: 'ivy@customer.test', subject: 'Imported', body: 'x' });
  const res = await m.stack.request('POST', `/api/v1/mailboxes/${mailbox.id}/import`);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ imported: expect.any(Number), seen: expect.any(Number) });
  expect(await processed(m, mailbox.id, sent.internetMessageId)).toMatchObject({ status: 'ticket_created' });
});

test('a shared mailbox is scanned through the signed-in agent', async () => {
  const shared = await createMailbox(m, {
    name: 'Shared support (scan)',
    method: 'scan',
    emailAddress: undefined,
    sharedMailbox: SUPPORT,
    scanIntervalSeconds: 60,
  });
  expect(shared.requiredPermissions).toEqual(expect.arrayContaining(['Mail.ReadWrite.Shared (delegated permission)']));
  expect((await signIn(m, shared.id)).status).toBe(200);
  const sent = m.emulator.deliverMessage(SUPPORT, {
    from: 'jack@customer.test',
    subject: 'To the shared box',
    body: 'x',
  });
  expect((await m.stack.request('POST', `/api/v1/mailboxes/${shared.id}/import`)).status).toBe(200);
  expect(await processed(m, shared.id, sent.internetMessageId)).toMatchObject({
    status: 'ticket_created',
    source: 'import',
  });
});

test('a permission problem is reported clearly by "import emails now", naming the permission', async () => {
  const limited = m.emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.Send'] });
  const box = await createMailbox(m, {
    name: 'Lacks Mail.ReadWrite',
    clientId: limited.clientId,
    clientSecret: limited.clientSecret,
  });
  const res = await m.stack.request('POST', `/api/v1/mailboxes/${box.id}/import`);
  expect(res.status).toBe(409);
  expect(res.body.error.code).toBe('mailbox_permission_denied');
  expect(res.body.error.message).toMatch(
    /ErrorAccessDenied.*Mail\.ReadWrite \(application permission, with admin consent\)/,
  );
  const shown = (await m.stack.request('GET', `/api/v1/mailboxes/${box.id}`)).body;
  expect(shown.lastError).toMatch(/Mail\.ReadWrite/);
});

test('a refused consent is shown on the callback page and recorded', async () => {
  m.emulator.setAuthorizeBehaviour({ outcome: 'access_denied' });
  const box = await createMailbox(m, { name: 'Declined', method: 'scan', emailAddress: undefined });
  const callback = await signIn(m, box.id);
  expect(callback.status).toBe(400);
  expect(callback.text).toMatch(/access_denied/);
  await eventually(async () =>
    (await m.stack.request('GET', `/api/v1/mailboxes/${box.id}`)).body.lastError?.includes('access_denied'),
  );
  m.emulator.setAuthorizeBehaviour({ outcome: 'approve', user: AGENT });
});

test('a failed email is retried later by the scheduled scan', async () => {
  const sent = m.emulator.deliverMessage(AGENT, { from: 'lee@customer.test', subject: 'Fails once', body: 'x' });
  // Fetching this message is refused once; the failure is final for the run, so the scheduler retries.
  m.emulator.failNext(1, 403, { method: 'GET', match: sent.immutableId.slice(8, 36) });
  const done = await eventually(async () => {
    const [entry] = (
      await m.stack.request('GET', `/api/v1/inbound-mail?mailboxId=${mailbox.id}&limit=500`)
    ).body.data.filter((e: { graphMessageId: string }) => e.graphMessageId === sent.immutableId);
    return entry?.status === 'ticket_created' ? entry : undefined;
  }, 30_000);
  const detail = (await m.stack.request('GET', `/api/v1/inbound-mail/${done.id}`)).body;
  expect(detail.requests.map((r: { trigger: string; status: string }) => [r.trigger, r.status])).toEqual([
    ['automatic', 'failed'],
    ['scheduler', 'succeeded'],
  ]);
  expect(detail.requests[0].error).toMatch(/ErrorAccessDenied.*Mail\.ReadWrite \(delegated permission\)/);
});

test('a revoked sign-in is reported: the scan asks for authorization again and people are told', async () => {
  m.emulator.revokeRefreshTokens();
  m.emulator.expireAllTokens();
  const told = await eventually(async () => {
    const rows = (await m.stack.request('GET', `/api/v1/mailboxes/${mailbox.id}/error-notifications`)).body.data;
    return rows.find((n: { kind: string }) => n.kind === 'reauthorization_required');
  }, 30_000);
  expect(told).toMatchObject({
    recipients: ['oncall@contoso.test'],
    message: expect.stringMatching(/authorize the application again/),
    // No outgoing default mailbox exists in this suite, so the email part is skipped, not failed.
    email: { status: 'skipped', error: 'no outgoing default mailbox is configured' },
  });
});

test('a changed MAILBOX_SCAN_MIN_INTERVAL_SECONDS reaches the existing scan schedule when the API restarts', async () => {
  const every = async () =>
    (await m.stack.temporal.schedule.getHandle(`mailbox-scan:${mailbox.id}`).describe()).spec.intervals?.[0]?.every;
  expect(await every()).toBe(2000);
  const restartApi = async (minSeconds: string) => {
    m.stack.env['MAILBOX_SCAN_MIN_INTERVAL_SECONDS'] = minSeconds;
    await m.stack.api.stop();
    await m.stack.api.start(/"msg":"api listening"/);
  };
  await restartApi('5');
  try {
    // The mailbox asks for 2 s; the new floor wins.
    expect(await every()).toBe(5000);
  } finally {
    await restartApi('1');
  }
  expect(await every()).toBe(2000);
});
