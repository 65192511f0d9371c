import {
  chooseThread,
  loopVerdict,
  referencedMessageIds,
  subjectWithToken,
  threadKeys,
  ticketNumberFromSubject,
  ticketNumbersFromSubject,
  ticketToken,
  type MailFacts,
} from './threading';

const mail = (over: Partial<MailFacts> = {}): MailFacts => ({
  subject: 'Printer broken',
  fromAddress: 'alice@customer.test',
  conversationId: 'conv-1',
  internetMessageId: '<m1@customer.test>',
  headers: [],
  ...over,
});
const own = { addresses: ['support@contoso.test'] };

describe('ticket token', () => {
  test('round-trips through a subject, in any case and spacing', () => {
    expect(ticketToken(42)).toBe('[SY-42]');
    expect(ticketNumberFromSubject('RE: Printer broken [SY-42]')).toBe(42);
    expect(ticketNumberFromSubject('re: [ sy-7 ] again')).toBe(7);
    expect(ticketNumberFromSubject('Printer broken')).toBeNull();
    expect(ticketNumberFromSubject('About SY-42 without brackets')).toBeNull();
  });

  test('is added once', () => {
    expect(subjectWithToken('RE: Printer broken', 42)).toBe('RE: Printer broken [SY-42]');
    expect(subjectWithToken('RE: Printer broken [SY-42]', 42)).toBe('RE: Printer broken [SY-42]');
  });
});

describe('choosing the thread', () => {
  const a = { ticket: 'A', rule: 'token' as const };
  const b = { ticket: 'B', rule: 'references' as const };

  test('every token of a subject counts, once each', () => {
    expect(ticketNumbersFromSubject('RE: x [SY-4] [sy-9] [SY-4]')).toEqual([4, 9]);
    expect(ticketNumbersFromSubject('no token')).toEqual([]);
  });

  test('the first ticket the sender took part in wins, whichever rule found it', async () => {
    expect(await chooseThread([a, b], async (t) => t === 'B')).toEqual({ thread: b });
    expect(await chooseThread([a, b], async () => true)).toEqual({ thread: a });
  });

  test("a stranger's mail gets a new ticket linked to the first one it pointed at", async () => {
    expect(await chooseThread([a, b], async () => false)).toEqual({ thread: null, related: 'A' });
    expect(await chooseThread([], async () => true)).toEqual({ thread: null, related: null });
  });
});

describe('threading keys', () => {
  test('In-Reply-To first, then References from newest to oldest, without repeats', () => {
    const headers = [
      { name: 'References', value: '<root@a> <mid@b>\r\n <parent@c>' },
      { name: 'in-reply-to', value: '<parent@c>' },
    ];
    expect(referencedMessageIds(headers)).toEqual(['<parent@c>', '<mid@b>', '<root@a>']);
  });

  test('collects token, references and conversation in rule order', () => {
    expect(threadKeys(mail({ subject: 'Re: x [SY-3]', headers: [{ name: 'In-Reply-To', value: '<p@x>' }] }))).toEqual({
      ticketNumbers: [3],
      references: ['<p@x>'],
      conversationId: 'conv-1',
    });
  });
});

describe('loop detection', () => {
  test.each([
    [{ name: 'Auto-Submitted', value: 'auto-replied' }, /Auto-Submitted/],
    [{ name: 'X-Autoreply', value: 'yes' }, /X-Autoreply/],
    [{ name: 'X-Autorespond', value: 'Out of office' }, /X-Autorespond/],
    [{ name: 'Precedence', value: 'bulk' }, /bulk/],
    [{ name: 'Precedence', value: 'auto_reply' }, /auto_reply/],
    [{ name: 'X-Auto-Response-Suppress', value: 'All' }, /X-Auto-Response-Suppress/],
    [{ name: 'Content-Type', value: 'multipart/report; report-type=delivery-status' }, /bounce/],
    [{ name: 'X-Switchyard-Origin', value: 'switchyard' }, /our own/],
  ])('skips %j', (header, reason) => {
    const verdict = loopVerdict(mail({ headers: [header] }), own);
    expect(verdict.skip).toBe(true);
    expect(verdict.skip && verdict.reason).toMatch(reason);
  });

  test('skips bounces from daemons and mail from our own mailboxes', () => {
    expect(loopVerdict(mail({ fromAddress: 'MAILER-DAEMON@mx.test' }), own).skip).toBe(true);
    expect(loopVerdict(mail({ fromAddress: 'postmaster@customer.test' }), own).skip).toBe(true);
    expect(loopVerdict(mail({ fromAddress: 'Support@Contoso.test' }), own).skip).toBe(true);
    expect(loopVerdict(mail(), { addresses: [], messageIds: new Set(['<m1@customer.test>']) }).skip).toBe(true);
  });

  test('lets ordinary mail through, including Auto-Submitted: no and Precedence: first-class', () => {
    expect(loopVerdict(mail(), own)).toEqual({ skip: false });
    expect(loopVerdict(mail({ headers: [{ name: 'Auto-Submitted', value: 'no' }] }), own)).toEqual({ skip: false });
    expect(loopVerdict(mail({ headers: [{ name: 'Precedence', value: 'first-class' }] }), own)).toEqual({
      skip: false,
    });
  });
});
