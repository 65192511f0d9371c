import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real Temporal server (not the dev server) for the scale-out profile: the version the CLI's
 * module pins (scripts/build-temporal-binaries.ts builds both together and checks it).
 */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
/** `go install` packages and the names we give their binaries (as in Temporal's images). */
export const TEMPORAL_SERVER_BINARIES = [
  { pkg: 'cmd/server', built: 'server', name: 'temporal-server' },
  { pkg: 'cmd/tools/sql', built: 'sql', name: 'temporal-sql-tool' },
] as const;

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
}

/** Per-user cache the provisioning script builds into and later runs reuse. */
export function temporalServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'switchyard', 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/** The cached `temporal-server` and `temporal-sql-tool`, when both have been built. */
export function findTemporalServer(env: NodeJS.ProcessEnv = process.env): TemporalServerBinaries | undefined {
  const dir = temporalServerCacheDir(env);
  const server = path.join(dir, 'temporal-server');
  const sqlTool = path.join(dir, 'temporal-sql-tool');
  return fs.existsSync(server) && fs.existsSync(sqlTool) ? { server, sqlTool } : undefined;
}

export const MISSING_SERVER_HELP = [
  'temporal-server and temporal-sql-tool are not built. `npm install` builds them with the Temporal CLI;',
  'they need Go (https://go.dev/dl). To build them alone: npm run provision:temporal-server',
  `(${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}, into ${temporalServerCacheDir()}).`,
].join('\n');
