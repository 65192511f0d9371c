import { randomBytes } from 'node:crypto';
import { authorityMetadataFor } from '../test/emulators/microsoft';
import { freePort } from '../test/harness/free-port';
import { fmt, percentile, startEmbeddedStack } from './lib';
import { forkMicrosoftEmulator } from './microsoft-emulator-process';

const TENANT = 'bench-tenant';
const MAILBOX = 'support@bench.test';

/**
 * A burst of emails to one webhooks mailbox on the embedded stack, with the Microsoft emulator
 * enforcing Outlook's limits (4 concurrent requests and 10,000 per 10 minutes per app per mailbox,
 * 429 + Retry-After beyond). Reports how fast notifications are acknowledged, how long each email
 * takes from its notification to its ticket, and failures. The emulator runs in a process of its own
 * (see microsoft-emulator-process.ts), so its ack timings are not delayed by the bench's own work.
 */
export async function benchMail(options: { emails: number; latencyMs: number; poolSize: number }): Promise<void> {
  const emulator = await forkMicrosoftEmulator({ notificationDelayMs: 20, graphLatencyMs: options.latencyMs });
  const port = await freePort();
  // The API's own port is chosen here so Graph can be told the notification URL up front.
  const stack = await startEmbeddedStack({
    NODE_EXTRA_CA_CERTS: emulator.caPath,
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    // The embedded default runs API and worker in one process on one pool: enough connections
    // that the activities of a 1,000-email backlog do not queue the notification endpoint's inserts.
    DATABASE_POOL_SIZE: String(options.poolSize),
    // The emulated Microsoft identity and Graph listen on localhost, which the outbound guard refuses by default.
    OUTBOUND_ALLOWED_HOSTS: 'localhost,127.0.0.1',
  });
  const call = async (method: string, path: string, body?: unknown) => {
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
    const app = await emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.ReadWrite', 'Mail.Send'] });
    await emulator.addUser(TENANT, { mail: MAILBOX });
    const mailbox = await call('POST', '/api/v1/mailboxes', {
      name: 'Bench',
      tenantId: TENANT,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      authority: {
        kind: 'custom',
        loginUrl: emulator.url,
        graphUrl: emulator.url,
        authorityMetadata: JSON.parse(authorityMetadataFor(emulator.url, TENANT)),
      },
      method: 'webhooks',
      emailAddress: MAILBOX,
    });
    await call('POST', `/api/v1/mailboxes/${mailbox['id']}/subscription`);
    await emulator.resetStats();

    const burst = Array.from({ length: options.emails }, (_, i) => ({
      from: `customer${i}@bench.test`,
      subject: `Bench ${i} ${randomBytes(4).toString('hex')}`,
      body: `email ${i}`,
    }));
    const started = performance.now();
    await emulator.deliverMessages(MAILBOX, burst);
    let summary: { total: number; byStatus: Record<string, number> };
    for (;;) {
      summary = (await call('GET', `/api/v1/inbound-mail/summary?mailboxId=${mailbox['id']}`)) as typeof summary;
      const settled = ['ticket_created', 'ticket_updated', 'duplicate', 'skipped', 'failed'].reduce(
        (n, s) => n + (summary.byStatus[s] ?? 0),
        0,
      );
      if (settled >= options.emails) break;
      if (performance.now() - started > 15 * 60_000) throw new Error(`timed out: ${JSON.stringify(summary)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const drainSeconds = (performance.now() - started) / 1000;
    await emulator.notificationsIdle();

    // When Graph first POSTed each message's notification, from the emulator's own log.
    const changes = (await emulator.notificationLog()).filter((a) => a.kind === 'change');
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
        `/api/v1/inbound-mail?mailboxId=${mailbox['id']}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      entries.push(...(page['data'] as typeof entries));
      cursor = page['nextCursor'] as string | null;
    } while (cursor);

    const ack = changes.map((c) => c.latencyMs).sort((a, b) => a - b);
    // The API's own time per notification POST, from its inbound-request log: from the request's
    // arrival to its answer being ready (the commit of the log entry aside). The gap to the ack
    // latency above is queueing in the sockets and in the emulator's event loop, on the same 2 cores.
    const logged = await call('GET', `/api/v1/inbound-requests?mailboxId=${mailbox['id']}&limit=500`);
    const server = (logged['data'] as Array<{ durationMs: number | null }>)
      .map((r) => r.durationMs)
      .filter((d): d is number => d !== null)
      .sort((a, b) => a - b);
    const toTicket = entries
      .filter((e) => e.status === 'ticket_created' && e.processedAt && notifiedAt.has(e.graphMessageId))
      .map((e) => Date.parse(e.processedAt!) - notifiedAt.get(e.graphMessageId)!)
      .sort((a, b) => a - b);
    const failedAcks = changes.filter((c) => c.status === null || c.status < 200 || c.status >= 300).length;
    const notTickets = options.emails - (summary.byStatus['ticket_created'] ?? 0);
    const stats = await emulator.stats();
    const lines = [
      `mail benchmark: ${options.emails} emails to one webhooks mailbox, embedded stack, Graph latency ${options.latencyMs} ms, pool ${options.poolSize}`,
      `  notification POSTs:            ${changes.length} (batched by the emulator, up to 50 per POST)`,
      `  ack latency p50/p99:           ${fmt(percentile(ack, 50))} / ${fmt(percentile(ack, 99))} ms (max ${fmt(ack[ack.length - 1] ?? NaN)} ms)`,
      `  API's own time p50/p99:        ${fmt(percentile(server, 50))} / ${fmt(percentile(server, 99))} ms (inbound-request log, ${server.length} requests)`,
      `  notification→ticket p50/p99:   ${fmt(percentile(toTicket, 50) / 1000, 2)} / ${fmt(percentile(toTicket, 99) / 1000, 2)} s`,
      `  all tickets after:             ${fmt(drainSeconds)} s (${fmt(options.emails / drainSeconds)} emails/s)`,
      `  throttled by Graph (429):      ${stats.throttled}`,
      `  failures:                      ${notTickets + failedAcks} (${notTickets} emails without a ticket, ${failedAcks} notification POSTs not acknowledged)`,
      `  final statuses:                ${JSON.stringify(summary.byStatus)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const json = {
      emails: options.emails,
      notification_posts: changes.length,
      ack_p50_ms: Number(percentile(ack, 50).toFixed(1)),
      ack_p99_ms: Number(percentile(ack, 99).toFixed(1)),
      ack_max_ms: Number((ack[ack.length - 1] ?? NaN).toFixed(1)),
      server_p50_ms: percentile(server, 50),
      server_p99_ms: percentile(server, 99),
      to_ticket_p50_s: Number((percentile(toTicket, 50) / 1000).toFixed(2)),
      to_ticket_p99_s: Number((percentile(toTicket, 99) / 1000).toFixed(2)),
      drain_seconds: Number(drainSeconds.toFixed(1)),
      throttled: stats.throttled,
      failures: notTickets + failedAcks,
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await stack.stop();
    await emulator.stop();
  }
}
