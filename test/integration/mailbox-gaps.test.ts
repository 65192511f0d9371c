import { eventually } from '../harness/stack';
import {
  createSubscribedMailbox,
  HELPDESK,
  inboundLog,
  processed,
  startMailStack,
  SUPPORT,
  type MailStack,
} from './mailbox-helpers';

let m: MailStack;
let support: { id: string };
let helpdesk: { id: string };

beforeAll(async () => {
  m = await startMailStack();
  support = await createSubscribedMailbox(m);
  helpdesk = await createSubscribedMailbox(m, { name: 'Helpdesk', emailAddress: HELPDESK });
});
afterAll(async () => {
  await m?.stop();
});

const requestsFor = async (mailboxId: string) => {
  const res = await m.stack.request('GET', `/api/v1/inbound-requests?mailboxId=${mailboxId}&limit=200`);
  expect(res.status).toBe(200);
  return res.body.data as Array<{ mailboxId: string; path: string; responseBody: string | null }>;
};

test('the inbound request log records which mailbox a Graph request was for, and filters by it', async () => {
  const toSupport = m.emulator.deliverMessage(SUPPORT, { from: 'a@customer.test', subject: 'For support', body: 'x' });
  const toHelpdesk = m.emulator.deliverMessage(HELPDESK, {
    from: 'b@customer.test',
    subject: 'For helpdesk',
    body: 'y',
  });
  await processed(m, support.id, toSupport.internetMessageId);
  await processed(m, helpdesk.id, toHelpdesk.internetMessageId);

  const supportRequests = await requestsFor(support.id);
  expect(supportRequests.length).toBeGreaterThan(0);
  for (const r of supportRequests) {
    expect(r.mailboxId).toBe(support.id);
    expect(r.path).toContain(`/hooks/graph/${support.id}/`);
  }
  const helpdeskRequests = await requestsFor(helpdesk.id);
  expect(helpdeskRequests.length).toBeGreaterThan(0);
  expect(helpdeskRequests.every((r) => r.mailboxId === helpdesk.id)).toBe(true);

  const bad = await m.stack.request('GET', '/api/v1/inbound-requests?mailboxId=not-a-uuid');
  expect(bad.status).toBe(400);
});

test('a disabled mailbox acknowledges notifications but processes nothing; enabling it catches up', async () => {
  const off = await m.stack.request('PATCH', `/api/v1/mailboxes/${support.id}`, { enabled: false });
  expect(off.status).toBe(200);
  expect(off.body.enabled).toBe(false);
  expect((await m.stack.request('GET', `/api/v1/mailboxes/${support.id}`)).body.enabled).toBe(false);

  const before = (await requestsFor(support.id)).length;
  const sent = m.emulator.deliverMessage(SUPPORT, { from: 'c@customer.test', subject: 'While disabled', body: 'z' });
  // Graph got its 202 (the subscription stays healthy) and the answer says nothing was taken on.
  const acknowledged = await eventually(async () => {
    const all = await requestsFor(support.id);
    return all.length > before ? all[0] : undefined;
  });
  expect(JSON.parse(acknowledged.responseBody ?? '{}')).toMatchObject({ accepted: 0, disabled: true });
  expect((await inboundLog(m, support.id)).some((e) => e.internetMessageId === sent.internetMessageId)).toBe(false);

  const importing = await m.stack.request('POST', `/api/v1/mailboxes/${support.id}/import`);
  expect(importing.status).toBe(409);
  expect(importing.body.error.code).toBe('mailbox_disabled');
  // The subscription was not cancelled.
  expect((await m.stack.request('GET', `/api/v1/mailboxes/${support.id}`)).body.subscription.status).toBe('active');

  const on = await m.stack.request('PATCH', `/api/v1/mailboxes/${support.id}`, { enabled: true });
  expect(on.body.enabled).toBe(true);
  // Enabling runs a delta catch-up, which finds the email that arrived meanwhile.
  const entry = await processed(m, support.id, sent.internetMessageId, 60_000);
  expect(entry).toMatchObject({ status: 'ticket_created', source: 'delta' });
});

test('enabled is validated like every other setting', async () => {
  const res = await m.stack.request('PATCH', `/api/v1/mailboxes/${support.id}`, { enabled: 'nope' });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
});
