export interface BannerFacts {
  apiUrl: string;
  temporalUiUrl: string;
  temporalAddress: string;
  /** Where the data lives: the embedded PostgreSQL's port, or the configured database. */
  database: string;
  keyFile: string;
  dataDir: string;
  colour: boolean;
}

/** A listen address as a browser reaches it: the wildcard addresses mean this machine. */
export function browsableHost(host: string): string {
  return ['0.0.0.0', '::', '127.0.0.1', ''].includes(host) ? 'localhost' : host.includes(':') ? `[${host}]` : host;
}

/** What `npm start` prints once everything is up: where each part is, read from the settings in force. */
export function startBanner(f: BannerFacts): string {
  const bold = (s: string) => (f.colour ? `\u001b[1m${s}\u001b[0m` : s);
  const cyan = (s: string) => (f.colour ? `\u001b[36m${s}\u001b[0m` : s);
  return [
    '',
    bold('Switchyard is running.'),
    `  Console:       ${cyan(`${f.apiUrl}/console/`)}`,
    `  API:           ${cyan(f.apiUrl)}   (health: /healthz, readiness: /readyz, docs: /api/v1/openapi.json)`,
    `  Temporal UI:   ${cyan(f.temporalUiUrl)}   (Temporal at ${f.temporalAddress})`,
    `  Database:      ${f.database}`,
    `  Admin API key: cat ${f.keyFile}`,
    `  Data:          ${f.dataDir}`,
    'Press Ctrl-C to stop.',
    '',
    '',
  ].join('\n');
}
