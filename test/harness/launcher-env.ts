import { freePort } from './free-port';

/**
 * The settings `npm start` (src/launcher.ts) runs with for a newcomer: its own data directory and
 * free ports for the embedded Temporal dev server, its UI, PostgreSQL and the API; nothing else
 * from this process's environment but PATH and HOME.
 */
export async function embeddedLauncherEnv(dataDir: string) {
  const ports = { temporal: await freePort(), ui: await freePort(), pg: await freePort(), http: await freePort() };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    SWITCHYARD_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_UI_PORT: String(ports.ui),
    EMBEDDED_POSTGRES_PORT: String(ports.pg),
    HTTP_PORT: String(ports.http),
  };
  return { env, ports, api: `http://127.0.0.1:${ports.http}` };
}
