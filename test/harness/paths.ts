import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
/** Each Jest run gets its own directory, so two runs on one machine do not collide. */
export const HARNESS_BASE = path.join(ROOT, '.data', 'test-harness');

export function harnessFile(): string {
  const file = process.env['SWITCHYARD_HARNESS_FILE'];
  if (!file) throw new Error('SWITCHYARD_HARNESS_FILE is not set: run integration tests through jest (npm test)');
  return file;
}

export interface HarnessInfo {
  temporalAddress: string;
  temporalUiUrl: string;
  adminDatabaseUrl: string;
  workflowBundlePath: string;
}
