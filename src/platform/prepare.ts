import { Connection } from '@temporalio/client';
import { migrate } from './db/migrate';
import type { BaseContext } from './context';
import { ensureRetention, ensureSearchAttributes } from './temporal/search-attribute-setup';
import { connectionOptions } from './temporal/connection';

/**
 * Brings storage up to date before serving: database migrations (once across replicas) and
 * our search attributes in the Temporal namespace. A namespace we may not administer (e.g. a
 * cloud namespace managed elsewhere) only earns a warning.
 */
export async function prepareDeployment(ctx: BaseContext, options: { retentionDays?: number } = {}): Promise<void> {
  const applied = await migrate(ctx.db);
  if (applied.length) ctx.logger.info({ applied }, 'migrations applied');
  const connection = await Connection.connect(connectionOptions(ctx.config));
  try {
    const added = await ensureSearchAttributes(connection, ctx.config.TEMPORAL_NAMESPACE);
    if (added.length) ctx.logger.info({ added }, 'search attributes registered');
    if (options.retentionDays) await ensureRetention(connection, ctx.config.TEMPORAL_NAMESPACE, options.retentionDays);
  } catch (err) {
    ctx.logger.warn(
      { err: err instanceof Error ? err.message : err },
      'could not register search attributes; register them by hand',
    );
  } finally {
    await connection.close();
  }
}
