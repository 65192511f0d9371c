import { eventually } from '../harness/stack';
import { createMailbox, inboundLog, startMailStack, subscribe, SUPPORT, type MailStack } from './mailbox-helpers';

let m: MailStack;
beforeAll(async () => {
  // Slow Graph answers keep emails in flight long enough for the kill to land mid-processing.
  m = await startMailStack({ emulator: { graphLatencyMs: 150 } });
});
afterAll(async () => {
  await m?.stop();
});

test('a worker killed mid-processing loses no email and duplicates none', async () => {
  const mailbox = await createMailbox(m);
  await subscribe(m, mailbox.id);
  const sent = Array.from({ length: 25 }, (_, i) =>
    m.emulator.deliverMessage(SUPPORT, {
      from: `user${i}@customer.test`,
      subject: `Crash test ${i}`,
      body: `mail ${i}`,
    }),
  );
  await eventually(
    async () => (await inboundLog(m, mailbox.id)).filter((e) => e.status === 'ticket_created').length >= 3,
    30_000,
    50,
  );
  expect(await m.stack.worker.stop('SIGKILL')).toBeNull();
  // Notifications keep arriving while no worker runs; the API still acknowledges them.
  const late = m.emulator.deliverMessage(SUPPORT, {
    from: 'late@customer.test',
    subject: 'While the worker was down',
    body: 'x',
  });
  await m.emulator.notificationsIdle();
  await m.stack.worker.start(/worker running/);

  const all = [...sent, late].map((s) => s.internetMessageId);
  const log = await eventually(async () => {
    const entries = await inboundLog(m, mailbox.id);
    return all.every((id) => entries.find((e) => e.internetMessageId === id)?.status === 'ticket_created')
      ? entries
      : undefined;
  }, 90_000).catch(async (err) => {
    const entries = await inboundLog(m, mailbox.id);
    // On failure, show where each email got stuck.
    const where = entries.map((e) => [e.internetMessageId ?? e.graphMessageId, e.status, e.attemptsMade, e.error]);
    process.stderr.write(`inbound log at timeout: ${JSON.stringify(where)}\n`);
    throw err;
  });
  expect(log).toHaveLength(all.length);
  const tickets = await m.stack.db.query('SELECT count(*) AS n, count(DISTINCT summary) AS d FROM tickets');
  expect(tickets.rows[0]).toEqual({ n: String(all.length), d: String(all.length) });
  const dupes = await m.stack.db.query(
    'SELECT internet_message_id FROM ticket_messages GROUP BY 1 HAVING count(*) > 1',
  );
  expect(dupes.rows).toEqual([]);
});
