import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const HARNESS_DIR = path.join(ROOT, '.data', 'test-harness');
export const HARNESS_FILE = path.join(HARNESS_DIR, 'harness.json');

export interface HarnessInfo {
  temporalAddress: string;
  adminDatabaseUrl: string;
  workflowBundlePath: string;
}
