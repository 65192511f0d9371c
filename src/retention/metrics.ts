import type { Queryable } from '../platform/db/pool';

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Retention figures from PostgreSQL (workers prune, any API replica reports): rows pruned per
 * log over all runs (a counter: runs are kept), and when the last run finished.
 */
export async function retentionMetrics(db: Queryable): Promise<string> {
  let pruned: Array<{ log: string; n: string }>;
  let last: number | null;
  try {
    pruned = (
      await db.query<{ log: string; n: string }>(
        `SELECT key AS log, sum(value::bigint)::text AS n FROM retention_runs, jsonb_each_text(pruned)
         WHERE NOT dry_run GROUP BY key ORDER BY key`,
      )
    ).rows;
    const r = await db.query<{ at: number | null }>(
      'SELECT extract(epoch FROM max(finished_at))::float AS at FROM retention_runs WHERE NOT dry_run',
    );
    last = r.rows[0]?.at ?? null;
  } catch {
    return ''; // an older schema without retention_runs
  }
  return [
    '# HELP switchyard_retention_pruned_rows_total Rows pruned by retention, per log',
    '# TYPE switchyard_retention_pruned_rows_total counter',
    ...pruned.map((r) => `switchyard_retention_pruned_rows_total{log="${label(r.log)}"} ${r.n}`),
    '# HELP switchyard_retention_last_run_timestamp_seconds When the last retention run finished',
    '# TYPE switchyard_retention_last_run_timestamp_seconds gauge',
    ...(last === null ? [] : [`switchyard_retention_last_run_timestamp_seconds ${Math.round(last)}`]),
  ].join('\n');
}
