import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../../src/platform/config';
import { TEMPORAL_SERVER_VERSION } from '../../src/embedded/temporal-server';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/platform/temporal/search-attributes';
import { temporalServerArgs } from '../harness/temporal-cluster';

const root = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context: string };
  depends_on?: string[] | Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  entrypoint?: string[];
  ports?: Array<string | { published?: string | number; host_ip?: string }>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

test('docker-compose.yml has the scale-out deployment: PostgreSQL, Temporal with schema setup, UI, api, worker', () => {
  expect(Object.keys(services)).toEqual(
    expect.arrayContaining(['postgres', 'temporal-schema', 'temporal', 'temporal-ui', 'api', 'worker']),
  );
  for (const [name, s] of Object.entries(services)) {
    expect([name, Boolean(s.image) || Boolean(s.build)]).toEqual([name, true]);
  }
});

test('every service it references exists, and every build context has a Dockerfile', () => {
  for (const [name, s] of Object.entries(services)) {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const dep of deps) expect([name, dep, dep in services]).toEqual([name, dep, true]);
    if (s.build) {
      const context = typeof s.build === 'string' ? s.build : s.build.context;
      expect(fs.existsSync(path.join(root, context, 'Dockerfile'))).toBe(true);
    }
    for (const volume of s.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('./')) expect(fs.existsSync(path.join(root, source))).toBe(true);
    }
  }
});

test('the api and worker are configured only with settings Switchyard knows', () => {
  for (const name of ['api', 'worker']) {
    const env = services[name]!.environment ?? {};
    expect(Object.keys(env).length).toBeGreaterThan(3);
    for (const key of Object.keys(env)) expect([name, key, CONFIG_KEYS.includes(key)]).toEqual([name, key, true]);
  }
});

/** The host address a published port binds to: compose's default is every interface. */
function hostAddress(port: string | { host_ip?: string }): string {
  if (typeof port !== 'string') return port.host_ip ?? '0.0.0.0';
  const parts = port.split(':');
  return parts.length === 3 ? parts[0]! : '0.0.0.0';
}

test('only the API is published beyond this host; Temporal stays on the compose network, its UI on loopback', () => {
  const published = Object.entries(services).flatMap(([name, s]) =>
    (s.ports ?? []).map((p) => ({ name, address: hostAddress(p) })),
  );
  expect(published.filter((p) => p.address !== '127.0.0.1').map((p) => p.name)).toEqual(['api']);
  // The frontend runs with --allow-no-auth: not even loopback may reach it from the host.
  expect(services['temporal']!.entrypoint).toContain('--allow-no-auth');
  expect(services['temporal']!.ports ?? []).toEqual([]);
  expect(services['temporal-ui']!.ports?.map(hostAddress)).toEqual(['127.0.0.1']);
  expect(services['postgres']!.ports ?? []).toEqual([]);
});

test('the API listens off loopback, so compose requires a metrics token', () => {
  const env = services['api']!.environment!;
  expect(env['HTTP_HOST']).toBe('0.0.0.0');
  // `${VAR:?message}`: compose refuses to start without it, rather than serving /metrics to anyone.
  expect(env['METRICS_TOKEN']).toMatch(/^\$\{METRICS_TOKEN:\?[^}]+\}$/);
});

// docs/configuration.md's table is checked both ways by docs-configuration.test.ts.
test('.env.example lists every setting', () => {
  const example = read('.env.example');
  for (const key of CONFIG_KEYS) {
    expect([key, new RegExp(`^#? ?${key}=`, 'm').test(example)]).toEqual([key, true]);
  }
});

describe('the Temporal server profile (deploy/temporal) is what compose runs and the cluster suite tests', () => {
  const mounted = '/etc/switchyard/temporal';
  const version = TEMPORAL_SERVER_VERSION.replace(/^v/, '');

  test('compose sets Temporal up with deploy/temporal/setup.sh and runs temporal-server on its config', () => {
    for (const [name, step] of [
      ['temporal-schema', 'schema'],
      ['temporal-namespace', 'namespace'],
    ] as const) {
      expect(services[name]!.image).toBe(`temporalio/admin-tools:${version}`);
      expect(services[name]!.volumes).toContain(`./deploy/temporal:${mounted}:ro`);
      expect(services[name]!.entrypoint).toEqual(['/bin/sh', `${mounted}/setup.sh`, step]);
    }
    const server = services['temporal']!;
    expect(server.image).toBe(`temporalio/server:${version}`);
    expect(server.volumes).toContain(`./deploy/temporal:${mounted}:ro`);
    expect(server.entrypoint).toEqual(['temporal-server', ...temporalServerArgs(mounted)]);
    expect(Number(server.environment!['TEMPORAL_HISTORY_SHARDS'])).toBeGreaterThanOrEqual(4);
  });

  test('the server config keeps history and visibility in PostgreSQL with 4+ shards by default', () => {
    const config = read('deploy/temporal/switchyard.yaml');
    expect(config.split('\n')[0]).toBe('# enable-template');
    expect(config.match(/pluginName: postgres12$/gm)).toHaveLength(2);
    expect(config).toMatch(/visibilityStore: postgres-visibility/);
    expect(Number(/numHistoryShards: \{\{ default "(\d+)"/.exec(config)?.[1])).toBeGreaterThanOrEqual(4);
  });

  test('setup.sh registers exactly our search attributes, with our retention', () => {
    const script = read('deploy/temporal/setup.sh');
    const listed = /^SEARCH_ATTRIBUTES="([^"]+)"/m.exec(script)?.[1]?.split(' ');
    expect(listed?.sort()).toEqual(ALL_SEARCH_ATTRIBUTES.map((k) => k.name).sort());
    expect(script).toMatch(/RETENTION_DAYS=\$\{TEMPORAL_RETENTION_DAYS:-30\}/);
  });
});
