import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/harness/free-port';
import { ProductProcess } from '../test/harness/processes';

/** Percentile of an ascending-sorted list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export interface EmbeddedStack {
  apiUrl: string;
  apiKey: string;
  temporalUiUrl: string;
  /** gRPC address of the embedded Temporal dev server (for benchmarks that run their own worker). */
  temporalAddress: string;
  /** URL of the embedded PostgreSQL (for benchmarks that seed data directly). */
  databaseUrl: string;
  call(method: string, path: string, body?: unknown): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  stop(): Promise<void>;
}

/** Starts `npm start`'s launcher on free ports with a throw-away data directory. */
export async function startEmbeddedStack(extraEnv: Record<string, string> = {}): Promise<EmbeddedStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-bench-'));
  // A caller may fix the port (e.g. to tell an emulator the callback URL before start).
  const httpPort = extraEnv['HTTP_PORT'] ? Number(extraEnv['HTTP_PORT']) : await freePort();
  const uiPort = await freePort();
  const pgPort = await freePort();
  const temporalAddress = `127.0.0.1:${await freePort()}`;
  const env = {
    ...process.env,
    SWITCHYARD_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
    PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
    EMBEDDED_POSTGRES_PORT: String(pgPort),
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_REQUESTS: '0',
    ...extraEnv,
  };
  const launcher = new ProductProcess('src/launcher.ts', env);
  await launcher.start(/Switchyard is running\./, 180_000);
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  const apiKey = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  return {
    apiUrl,
    apiKey,
    temporalUiUrl: `http://localhost:${uiPort}`,
    temporalAddress,
    databaseUrl: `postgres://switchyard:${encodeURIComponent(
      fs.readFileSync(path.join(dataDir, 'postgres.credentials'), 'utf8').trim(),
    )}@127.0.0.1:${pgPort}/switchyard`,
    call: async (method, p, body) => {
      const res = await fetch(`${apiUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json: unknown = await res.json();
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    stop: async () => {
      await launcher.stop('SIGINT', 60_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
