import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../../src/config';

const root = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context: string };
  depends_on?: string[] | Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
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

test('README and .env.example document every setting', () => {
  const readme = read('README.md');
  const example = read('.env.example');
  for (const key of CONFIG_KEYS) {
    expect([key, readme.includes(`\`${key}\``)]).toEqual([key, true]);
    expect([key, new RegExp(`^#? ?${key}=`, 'm').test(example)]).toEqual([key, true]);
  }
});
