/**
 * The ingest bench's raw reference for the open loop, run as its own process (as Switchyard's
 * API is), so that it neither shares the load generator's event loop nor its CPU: a plain Node
 * HTTP server whose one handler does one INSERT of the body into the same PostgreSQL and answers
 * 202. Prints `RAW_INGEST_URL <url>` once listening; on SIGTERM prints `RAW_INGEST_CPU <seconds>`
 * (this process's CPU since it listened), drops its table and exits.
 *
 * argv: <databaseUrl>
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

const [databaseUrl] = process.argv.slice(2);

async function main() {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_raw_ingest (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz DEFAULT now())',
  );
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      pool.query('INSERT INTO bench_raw_ingest (body) VALUES ($1)', [Buffer.concat(chunks).toString('utf8')]).then(
        () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}'),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cpu0 = process.cpuUsage();
  process.once('SIGTERM', () => {
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`RAW_INGEST_CPU ${(cpu.user + cpu.system) / 1e6}\n`);
    server.closeAllConnections();
    server.close();
    void pool
      .query('DROP TABLE bench_raw_ingest')
      .finally(() => pool.end())
      .finally(() => process.exit(0));
  });
  process.stdout.write(`RAW_INGEST_URL http://127.0.0.1:${(server.address() as AddressInfo).port}/ref\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
