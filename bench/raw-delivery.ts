/**
 * The outgoing bench's raw reference, run as its own process so its CPU is its own: a minimal
 * durable delivery loop in plain Node and PostgreSQL. `posters` loops INSERT `events` events
 * (each its own committed statement); `workers` loops claim the oldest with SKIP LOCKED
 * (committed), POST it to the receiver over a keep-alive agent, then UPDATE it delivered.
 * Prints `RAW_JSON {...}`: when each event was inserted, how long the inserts took, this
 * process's CPU seconds.
 *
 * argv: <databaseUrl> <receiverUrl> <events> <posters> <workers>
 */
import http from 'node:http';
import pg from 'pg';

const [databaseUrl, url, eventsArg, postersArg, workersArg] = process.argv.slice(2);
const events = Number(eventsArg);
const posters = Number(postersArg);
const workers = Number(workersArg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const agent = new http.Agent({ keepAlive: true, maxSockets: workers });

function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url!,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 20 });
  await db.query(`CREATE TABLE IF NOT EXISTS bench_raw_events (
    id bigserial PRIMARY KEY, payload jsonb NOT NULL, status text NOT NULL DEFAULT 'pending',
    attempts int NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now(), delivered_at timestamptz)`);
  await db.query(
    `CREATE INDEX IF NOT EXISTS bench_raw_events_pending ON bench_raw_events (id) WHERE status = 'pending'`,
  );
  await db.query('TRUNCATE bench_raw_events');
  const cpu0 = process.cpuUsage();

  let delivered = 0;
  const working = Array.from({ length: workers }, async () => {
    while (delivered < events) {
      const { rows } = await db.query<{ id: string; payload: unknown }>(
        `UPDATE bench_raw_events SET status = 'in_flight', attempts = attempts + 1 WHERE id = (
           SELECT id FROM bench_raw_events WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, payload`,
      );
      const row = rows[0];
      if (!row) {
        await sleep(5);
        continue;
      }
      const status = await post(JSON.stringify(row.payload));
      await db.query(`UPDATE bench_raw_events SET status = $2, delivered_at = now() WHERE id = $1`, [
        row.id,
        status < 300 ? 'delivered' : 'pending',
      ]);
      if (status < 300) delivered++;
    }
  });

  const sentAt: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: posters }, async () => {
      while (next < events) {
        const objectId = `R-${next++}`;
        sentAt[objectId] = Date.now();
        await db.query('INSERT INTO bench_raw_events (payload) VALUES ($1)', [
          JSON.stringify({ type: 'Ticket Changed', objectId, object: { fields: { summary: 'bench' } } }),
        ]);
      }
    }),
  );
  const insertSeconds = (performance.now() - started) / 1000;
  await Promise.all(working);
  const cpu = process.cpuUsage(cpu0);
  await db.query('DROP TABLE bench_raw_events');
  await db.end();
  agent.destroy();
  process.stdout.write(
    `RAW_JSON ${JSON.stringify({ sentAt, insertSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
