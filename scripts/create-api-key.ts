/** `npx tsx scripts/create-api-key.ts <name>`: creates an admin API key in DATABASE_URL and prints it once. */
import { createApiKey } from '../src/platform/security/api-credentials';
import { migrate } from '../src/platform/db/migrate';
import { createBaseContext } from '../src/platform/context';

async function main() {
  const name = process.argv[2] ?? 'admin';
  const ctx = createBaseContext('cli');
  await migrate(ctx.db);
  const { apiKey } = await createApiKey(ctx.db, name);
  process.stdout.write(`${apiKey}\n`);
  await ctx.db.end();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
