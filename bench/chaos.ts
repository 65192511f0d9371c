/**
 * `npm run chaos` — crash recovery of the embedded stack, driven only through HTTP as a provider
 * and an API client would. A signed burst of generic webhooks (with a forward URL) and outgoing
 * events runs while the launcher, then the Temporal dev server, then PostgreSQL are SIGKILLed; the
 * launcher is restarted as a supervisor (systemd, Docker) would, the children by the launcher.
 * Prints lost and twice-stored items, re-run executions and whether their side effects repeated
 * (forwards by Idempotency-Key: true repeats apart from same-key re-sends after a lost answer),
 * time to first 2xx after each crash and time to drain; ends with `BENCH_JSON {...}`.
 *
 * Options: --webhooks N (600) --events N (150) --connections N (10)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { idempotencyKeyFor } from '../src/platform/effects/activity-keys';
import { signStandardWebhook } from '../test/emulators/webhook-sender';
import { freePort } from '../test/harness/free-port';
import { ProductProcess } from '../test/harness/processes';
import { Receiver } from '../test/harness/receiver';
import { countForwards } from './chaos-forwards';

const args = process.argv.slice(2);
const flag = (key: string, fallback: number) => {
  const i = args.indexOf(`--${key}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const WEBHOOKS = flag('webhooks', 600);
const EVENTS = flag('events', 150);
const CONNECTIONS = flag('connections', 10);
const READY = /Switchyard is running\./;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-chaos-'));
  const ports = { http: await freePort(), temporal: await freePort(), ui: await freePort(), pg: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SWITCHYARD_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_UI_PORT: String(ports.ui),
    EMBEDDED_POSTGRES_PORT: String(ports.pg),
    HTTP_PORT: String(ports.http),
    LOG_LEVEL: 'info',
    RATE_LIMIT_REQUESTS: '0',
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    PROVIDER_CUSTOM_HOSTS: '127.0.0.1',
    INBOUND_RETRY_INITIAL_SECONDS: '1',
    DELIVERY_RETRY_SCHEDULE: '1s,2s,5s,10s,20s,30s,60s',
  };
  delete env['DATABASE_URL'];
  const api = `http://127.0.0.1:${ports.http}`;
  const receiver = await Receiver.start();
  let launcher = new ProductProcess('src/launcher.ts', env);
  await launcher.start(READY, 180_000);
  const apiKey = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${api}${p}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => undefined)) as Record<string, string> | undefined,
    };
  };
  const integration = await call('POST', '/api/v1/integrations', {
    provider: 'generic',
    name: 'chaos',
    processingMethod: 'service_immediate',
    settings: { forwardUrl: receiver.url('/forward') },
  });
  const hook = await call('POST', '/api/v1/webhooks', {
    name: 'chaos',
    url: receiver.url('/events'),
    events: [{ type: 'New Ticket Logged' }],
  });
  if (integration.status !== 201 || hook.status !== 201) throw new Error('setup failed');
  const { id: integrationId, signingSecret } = integration.body!;

  // Crash plan: at a share of acknowledged items, kill one part.
  const total = WEBHOOKS + EVENTS;
  let acked = 0;
  const crashes: Array<{ what: string; at: number; killedAt?: number; firstOkMs?: number }> = [
    { what: 'launcher', at: Math.floor(total * 0.25) },
    { what: 'temporal', at: Math.floor(total * 0.5) },
    { what: 'postgres', at: Math.floor(total * 0.75) },
  ];
  const pidOf = (name: string) =>
    (JSON.parse(fs.readFileSync(path.join(dataDir, 'run', `${name}.pid`), 'utf8')) as { pid: number }).pid;
  let crashing: Promise<void> | undefined;
  /** `sentAt`: when the acknowledged request was sent; only requests sent after a crash count for it. */
  // A run that stops making progress says why (the launcher's last words) instead of hanging.
  let lastAckAt = Date.now();
  const stallCheck = setInterval(() => {
    if (Date.now() - lastAckAt < 120_000) return;
    out(`chaos: stalled: no acknowledgement for 120 s at ${acked} acks; launcher output:`);
    out(launcher.output.slice(-4000));
    process.exit(1);
  }, 5000);
  const onAck = (sentAt: number) => {
    acked++;
    lastAckAt = Date.now();
    const now = Date.now();
    for (const c of crashes) {
      if (c.killedAt !== undefined && c.firstOkMs === undefined && sentAt > c.killedAt) c.firstOkMs = now - c.killedAt;
    }
    const next = crashes.find((c) => c.killedAt === undefined);
    if (next && acked >= next.at && !crashing) {
      crashing = (async () => {
        next.killedAt = Date.now();
        out(`chaos: SIGKILL ${next.what} at ${acked} acks`);
        if (next.what === 'launcher') {
          await launcher.stop('SIGKILL');
          // A supervisor restarts the service; the new launcher cleans what the old one left.
          launcher = new ProductProcess('src/launcher.ts', env);
          await launcher.start(READY, 180_000);
        } else {
          process.kill(pidOf(next.what), 'SIGKILL');
        }
      })()
        .catch((err: unknown) => out(`chaos: restart failed: ${String(err)}`))
        .finally(() => {
          crashing = undefined;
        });
    }
  };

  // Senders retry each item until it gets a 2xx, as providers and API clients do.
  const retryUntil2xx = async (send: () => Promise<number>) => {
    for (;;) {
      const sentAt = Date.now();
      const status = await send().catch(() => 0);
      if (status >= 200 && status < 300) return onAck(sentAt);
      await sleep(250);
    }
  };
  const hooks: Array<() => Promise<void>> = [];
  const evs: Array<() => Promise<void>> = [];
  for (let i = 0; i < WEBHOOKS; i++) {
    const body = JSON.stringify({ type: 'Invoice updated', id: `WH-${i}` });
    // A retrying sender keeps the delivery's id and signs each attempt at its own time.
    const id = `msg_WH-${i}`;
    hooks.push(() =>
      retryUntil2xx(async () => {
        const res = await fetch(`${api}/hooks/generic/${integrationId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signStandardWebhook(body, signingSecret!, { id }) },
          body,
          signal: AbortSignal.timeout(5000),
        });
        return res.status;
      }),
    );
  }
  for (let i = 0; i < EVENTS; i++) {
    evs.push(() =>
      retryUntil2xx(
        async () =>
          (
            await call('POST', '/api/v1/events', {
              type: 'New Ticket Logged',
              objectId: `EV-${i}`,
              idempotencyKey: `chaos-EV-${i}`,
              object: { fields: { summary: `chaos ${i}` } },
            })
          ).status,
      ),
    );
  }
  // Interleave webhooks and events evenly.
  const items: Array<() => Promise<void>> = [];
  for (let i = 0, j = 0; i < hooks.length || j < evs.length;) {
    if (i < hooks.length && (j >= evs.length || i * evs.length <= j * hooks.length)) items.push(hooks[i++]!);
    else items.push(evs[j++]!);
  }
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < items.length) await items[next++]!();
    }),
  );
  await crashing;
  clearInterval(stallCheck);
  const ackedAt = Date.now();
  out(`chaos: all ${total} items acknowledged in ${((ackedAt - started) / 1000).toFixed(1)} s`);

  // Drain: every webhook finished and every event delivered (or 5 minutes).
  const password = fs.readFileSync(path.join(dataDir, 'postgres.credentials'), 'utf8').trim();
  const db = new pg.Client({ host: '127.0.0.1', port: ports.pg, user: 'switchyard', password, database: 'switchyard' });
  await db.connect();
  const q = async (sql: string) => (await db.query(sql)).rows as Array<Record<string, string>>;
  const deadline = Date.now() + 300_000;
  let drained = false;
  while (Date.now() < deadline) {
    const [w] = await q(
      `SELECT count(*) FILTER (WHERE status NOT IN ('succeeded','failed','stale')) AS open FROM incoming_webhooks`,
    );
    const delivered = new Set(receiver.requests('/events').map((r) => r.body.match(/EV-\d+/)?.[0]));
    if (Number(w!['open']) === 0 && delivered.size >= EVENTS) {
      drained = true;
      break;
    }
    await sleep(500);
  }
  const drainMs = Date.now() - ackedAt;

  const stored = await q(
    `SELECT entity_id, count(*) AS n, max(status) AS status FROM incoming_webhooks GROUP BY entity_id`,
  );
  const storedIds = new Set(stored.map((r) => r['entity_id']));
  const lostWebhooks = Array.from({ length: WEBHOOKS }, (_, i) => `WH-${i}`).filter((id) => !storedIds.has(id)).length;
  const storedTwice = stored.filter((r) => Number(r['n']) > 1).length;
  const failed = stored.filter((r) => r['status'] === 'failed').length;
  const [reruns] = await q(`SELECT count(*) AS n FROM incoming_webhook_attempts WHERE rerun`);
  // Forwards by Idempotency-Key, against the ledger's re-sends after an unknown outcome.
  const resends = new Map<string, number>();
  for (const r of await q(`SELECT key, resends_after_unknown AS n FROM activity_effects WHERE key LIKE 'outbound:%'`))
    resends.set(idempotencyKeyFor(r['key']!), Number(r['n']));
  const forwards = countForwards(
    receiver.requests('/forward').map((r) => ({
      webhookId: r.headers['x-switchyard-webhook-id'] ?? '',
      key: r.headers['idempotency-key'] ?? '',
      status: r.answeredWith,
    })),
    resends,
  );
  const [events] = await q(`SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys FROM events`);
  const eventsStoredTwice = Number(events!['n']) - Number(events!['keys']);
  const deliveredEvents = new Map<string, Set<string>>();
  for (const r of receiver.requests('/events')) {
    const ev = r.body.match(/EV-\d+/)?.[0] ?? '';
    deliveredEvents.set(ev, (deliveredEvents.get(ev) ?? new Set()).add(r.headers['webhook-id'] ?? ''));
  }
  const lostEvents = Array.from({ length: EVENTS }, (_, i) => `EV-${i}`).filter((e) => !deliveredEvents.has(e)).length;
  const eventRequests = receiver.requests('/events').length;
  const deliveriesRepeated = eventRequests - deliveredEvents.size;
  await db.end();

  out('');
  out(`webhooks sent ${WEBHOOKS}, events sent ${EVENTS}, connections ${CONNECTIONS}`);
  out(`lost: ${lostWebhooks} webhooks, ${lostEvents} events`);
  out(`stored twice: ${storedTwice} webhooks, ${eventsStoredTwice} events`);
  out(
    `executions run twice (re-runs recorded): ${reruns!['n']}; forwards repeated: ${forwards.repeated} of ${forwards.forwards}, re-sent with the same key after a lost answer: ${forwards.resentSameKey}`,
  );
  out(
    `event deliveries: ${eventRequests} requests for ${deliveredEvents.size} events (repeated: ${deliveriesRepeated})`,
  );
  out(`webhooks failed: ${failed}`);
  for (const c of crashes)
    out(
      `first 2xx after killing ${c.what}: ${c.firstOkMs === undefined ? 'n/a' : `${(c.firstOkMs / 1000).toFixed(1)} s`}`,
    );
  out(`drain: ${drained ? `${(drainMs / 1000).toFixed(1)} s` : 'not drained within 300 s'}`);
  const json = {
    webhooks: WEBHOOKS,
    events: EVENTS,
    lost_webhooks: lostWebhooks,
    lost_events: lostEvents,
    stored_twice_webhooks: storedTwice,
    stored_twice_events: eventsStoredTwice,
    executions_rerun: Number(reruns!['n']),
    forwards_repeated: forwards.repeated,
    forwards_resent_same_key: forwards.resentSameKey,
    deliveries_repeated: deliveriesRepeated,
    webhooks_failed: failed,
    first_2xx_after_launcher_kill_s: crashes[0]!.firstOkMs === undefined ? null : crashes[0]!.firstOkMs / 1000,
    first_2xx_after_dev_server_kill_s: crashes[1]!.firstOkMs === undefined ? null : crashes[1]!.firstOkMs / 1000,
    first_2xx_after_postgres_kill_s: crashes[2]!.firstOkMs === undefined ? null : crashes[2]!.firstOkMs / 1000,
    drain_s: drained ? drainMs / 1000 : null,
  };
  await launcher.stop('SIGINT', 60_000);
  await receiver.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  out(`BENCH_JSON ${JSON.stringify(json)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
