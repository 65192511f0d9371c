import { createBaseContext } from '../context';
import { migrate } from './migrate';

/** `npm run migrate`: applies pending migrations to DATABASE_URL and exits. */
async function main() {
  const ctx = createBaseContext('migrate');
  const applied = await migrate(ctx.db);
  ctx.logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
  await ctx.db.end();
}

main().catch((err: unknown) => {
  process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
