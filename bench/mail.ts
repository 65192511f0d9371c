import { randomBytes } from 'node:crypto';
import { freePort } from '../test/harness/free-port';
import { connectEmulatedMailbox, emulatorEnv, BENCH_MAILBOX } from './emulated-mailbox';
import { fmt, percentile, startEmbeddedStack } from './lib';
import { forkMicrosoftEmulator, type EmulatorProcess } from './microsoft-emulator-process';

const SETTLED = ['ticket_created', 'ticket_updated', 'duplicate', 'skipped', 'failed'];

type Call = (method: string, path: string, body?: unknown) => Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What one burst measured. */
interface BurstFigures {
  /** Each notification POST's ack latency as Graph (the emulator) timed it, sorted. */
  ackMs: number[];
  /** The API's own time per POST (inbound-request log), sorted. */
  serverMs: number[];
  /** Notification → ticket per email, sorted. */
  toTicketMs: number[];
  drainSeconds: number;
  failures: number;
  byStatus: Record<string, number>;
}

/**
 * Bursts of emails to one webhooks mailbox on the embedded stack, with the Microsoft emulator
 * enforcing Outlook's limits (4 concurrent requests and 10,000 per 10 minutes per app per mailbox,
 * 429 + Retry-After beyond). Reports how fast notifications are acknowledged, how long each email
 * takes from its notification to its ticket, and failures. The emulator runs in a process of its
 * own (see microsoft-emulator-process.ts), so its ack timings are not delayed by the bench's own
 * work. A burst of 1,000 emails is 20 notification POSTs, so one burst's p99 is its slowest POST:
 * the burst is repeated (`bursts`, each after the last has drained, the first on a fresh stack)
 * and every burst reported, with the median burst and the p99 over all POSTs.
 */
export async function benchMail(options: {
  emails: number;
  latencyMs: number;
  poolSize: number;
  bursts: number;
}): Promise<void> {
  const emulator = await forkMicrosoftEmulator({ notificationDelayMs: 20, graphLatencyMs: options.latencyMs });
  const port = await freePort();
  // The API's own port is chosen here so Graph can be told the notification URL up front.
  const stack = await startEmbeddedStack({
    ...emulatorEnv(emulator),
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    // The API and the worker each get a pool this size: enough connections that the
    // activities of a 1,000-email backlog do not wait for one.
    DATABASE_POOL_SIZE: String(options.poolSize),
  });
  const call: Call = async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const mailboxId = await connectEmulatedMailbox(emulator, call);
    await emulator.resetStats();

    const bursts: BurstFigures[] = [];
    for (let i = 0; i < Math.max(1, options.bursts); i++) {
      bursts.push(await burst(emulator, call, mailboxId, options.emails, i));
    }
    report(options, bursts, (await emulator.stats()).throttled);
  } finally {
    await stack.stop();
    await emulator.stop();
  }
}

async function burst(
  emulator: EmulatorProcess,
  call: Call,
  mailboxId: string,
  emails: number,
  index: number,
): Promise<BurstFigures> {
  const settledBefore = index * emails;
  const mail = Array.from({ length: emails }, (_, i) => ({
    from: `customer${i}@bench.test`,
    subject: `Bench ${index}.${i} ${randomBytes(4).toString('hex')}`,
    body: `email ${i} of burst ${index}`,
  }));
  const startedAt = Date.now();
  const started = performance.now();
  await emulator.deliverMessages(BENCH_MAILBOX, mail);
  let summary: { total: number; byStatus: Record<string, number> };
  for (;;) {
    summary = (await call('GET', `/api/v1/inbound-mail/summary?mailboxId=${mailboxId}`)) as typeof summary;
    const settled = SETTLED.reduce((n, s) => n + (summary.byStatus[s] ?? 0), 0);
    if (settled >= settledBefore + emails) break;
    if (performance.now() - started > 15 * 60_000) throw new Error(`timed out: ${JSON.stringify(summary)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const drainSeconds = (performance.now() - started) / 1000;
  await emulator.notificationsIdle();

  // When Graph first POSTed each message's notification, from the emulator's own log.
  const changes = (await emulator.notificationLog()).filter(
    (a) => a.kind === 'change' && Date.parse(a.startedAt) >= startedAt,
  );
  const notifiedAt = new Map<string, number>();
  for (const post of changes) {
    const body = JSON.parse(post.body) as { value: Array<{ resourceData: { id: string } }> };
    for (const item of body.value) {
      const at = Date.parse(post.startedAt);
      notifiedAt.set(item.resourceData.id, Math.min(notifiedAt.get(item.resourceData.id) ?? Infinity, at));
    }
  }
  const entries: Array<{ graphMessageId: string; status: string; processedAt: string | null }> = [];
  let cursor: string | null = null;
  do {
    const page = await call(
      'GET',
      `/api/v1/inbound-mail?mailboxId=${mailboxId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
    );
    entries.push(...(page['data'] as typeof entries));
    cursor = page['nextCursor'] as string | null;
  } while (cursor);

  // The API's own time per notification POST, from its inbound-request log: from the request's
  // arrival until its one intake statement is sent (the statement and the answer aside). The
  // gap to the ack latency is the statement, the sockets and queueing on the same 2 cores.
  const logged = await call('GET', `/api/v1/inbound-requests?mailboxId=${mailboxId}&limit=500`);
  const serverMs = (logged['data'] as Array<{ durationMs: number | null; receivedAt: string }>)
    .filter((r) => Date.parse(r.receivedAt) >= startedAt && r.durationMs !== null)
    .map((r) => r.durationMs!)
    .sort((a, b) => a - b);
  const toTicketMs = entries
    .filter((e) => e.status === 'ticket_created' && e.processedAt && notifiedAt.has(e.graphMessageId))
    .map((e) => Date.parse(e.processedAt!) - notifiedAt.get(e.graphMessageId)!)
    .sort((a, b) => a - b);
  const failedAcks = changes.filter((c) => c.status === null || c.status < 200 || c.status >= 300).length;
  const ticketsBefore = index * emails;
  const notTickets = emails - ((summary.byStatus['ticket_created'] ?? 0) - ticketsBefore);
  return {
    ackMs: changes.map((c) => c.latencyMs).sort((a, b) => a - b),
    serverMs,
    toTicketMs,
    drainSeconds,
    failures: notTickets + failedAcks,
    byStatus: summary.byStatus,
  };
}

function report(
  options: { emails: number; latencyMs: number; poolSize: number },
  bursts: BurstFigures[],
  throttled: number,
): void {
  const p = (sorted: number[], q: number) => percentile(sorted, q);
  const byP99 = [...bursts].sort((a, b) => p(a.ackMs, 99) - p(b.ackMs, 99));
  const mid = byP99[Math.floor((byP99.length - 1) / 2)]!;
  const allAcks = bursts.flatMap((b) => b.ackMs).sort((a, b) => a - b);
  const posts = bursts.map((b) => b.ackMs.length);
  const failures = bursts.reduce((n, b) => n + b.failures, 0);
  const lines = [
    `mail benchmark: ${bursts.length} × ${options.emails} emails to one webhooks mailbox, embedded stack, Graph latency ${options.latencyMs} ms, pool ${options.poolSize}`,
    ...bursts.map(
      (b, i) =>
        `  burst ${i + 1}: ${b.ackMs.length} notification POSTs (up to 50 emails each), ack p50/p99 ${fmt(p(b.ackMs, 50))} / ${fmt(p(b.ackMs, 99))} ms, ` +
        `API's own time p50/p99 ${fmt(p(b.serverMs, 50))} / ${fmt(p(b.serverMs, 99))} ms, notification→ticket p50/p99 ${fmt(p(b.toTicketMs, 50) / 1000, 2)} / ${fmt(p(b.toTicketMs, 99) / 1000, 2)} s, ` +
        `all tickets after ${fmt(b.drainSeconds)} s, failures ${b.failures}`,
    ),
    `  the median burst: ack p50/p99 ${fmt(p(mid.ackMs, 50))} / ${fmt(p(mid.ackMs, 99))} ms`,
    `  every POST (${allAcks.length}): ack p50/p99 ${fmt(p(allAcks, 50))} / ${fmt(p(allAcks, 99))} ms, max ${fmt(allAcks[allAcks.length - 1] ?? NaN)} ms`,
    `  throttled by Graph (429):      ${throttled}`,
    `  failures:                      ${failures}`,
    `  final statuses:                ${JSON.stringify(bursts[bursts.length - 1]!.byStatus)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = {
    emails: options.emails,
    bursts: bursts.length,
    notification_posts: posts.reduce((a, b) => a + b, 0),
    ack_p50_ms: p(mid.ackMs, 50),
    ack_p99_ms: p(mid.ackMs, 99),
    burst_ack_p99_ms: bursts.map((b) => p(b.ackMs, 99)),
    all_ack_p99_ms: p(allAcks, 99),
    all_ack_max_ms: allAcks[allAcks.length - 1] ?? null,
    server_p50_ms: p(mid.serverMs, 50),
    server_p99_ms: p(mid.serverMs, 99),
    to_ticket_p50_s: Number((p(mid.toTicketMs, 50) / 1000).toFixed(2)),
    to_ticket_p99_s: Number((p(mid.toTicketMs, 99) / 1000).toFixed(2)),
    drain_seconds: bursts.map((b) => Number(b.drainSeconds.toFixed(1))),
    throttled,
    failures,
  };
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
}
