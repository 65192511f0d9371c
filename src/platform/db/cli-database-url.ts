import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

/**
 * The database a command-line tool works on: DATABASE_URL, else the embedded database of
 * `npm start` (which must be running); undefined when there is neither.
 */
export function cliDatabaseUrl(config: Config): string | undefined {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  const creds = path.join(config.dataDir, 'postgres.credentials');
  if (!fs.existsSync(creds)) return undefined;
  const password = fs.readFileSync(creds, 'utf8').trim();
  return `postgres://switchyard:${encodeURIComponent(password)}@127.0.0.1:${config.EMBEDDED_POSTGRES_PORT}/switchyard`;
}
