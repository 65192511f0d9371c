/** Workflow ids, input and result of the retention workflow. */
import type { PrunedCounts, RetentionLog } from './db';

export const retentionIds = {
  /** One schedule per deployment (task queue), so deployments sharing a namespace do not collide. */
  schedule: (taskQueue: string) => `retention:${taskQueue}`,
  manual: (taskQueue: string, key: string) => `retention:${taskQueue}:${key}`,
};

export interface RetentionInput {
  /** Count what would be pruned, prune nothing. */
  dryRun: boolean;
}

export interface RetentionPlanItem {
  log: RetentionLog;
  /** ISO instant: rows older than this go. */
  cutoff: string;
}

export interface RetentionResult {
  runId: string;
  dryRun: boolean;
  plan: RetentionPlanItem[];
  /** Rows pruned per log (would be pruned, on a dry run). */
  pruned: PrunedCounts;
}

/** The retention workflow as registered with the worker (src/workflows/retention/retention.ts). */
export const RETENTION_WORKFLOW = 'retentionWorkflow';
export type RetentionWorkflow = (input?: RetentionInput) => Promise<RetentionResult>;
