import { ConfigError, loadConfig } from '../../src/platform/config';

test('defaults are complete and sensible', () => {
  const c = loadConfig({});
  expect(c.HTTP_PORT).toBe(3000);
  expect(c.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
  expect(c.RATE_LIMIT_REQUESTS).toBe(450);
  expect(c.RATE_LIMIT_WINDOW_SECONDS).toBe(300);
  expect(c.EMBEDDED_TEMPORAL).toBe(true);
  expect(c.TEMPORAL_TLS).toBe(false);
  expect(c.publicBaseUrl).toBe('http://localhost:3000');
});

test('booleans are words, not JavaScript truthiness', () => {
  expect(loadConfig({ TEMPORAL_TLS: 'false' }).TEMPORAL_TLS).toBe(false);
  expect(loadConfig({ TEMPORAL_TLS: 'true' }).TEMPORAL_TLS).toBe(true);
  expect(() => loadConfig({ TEMPORAL_TLS: 'maybe' })).toThrow(ConfigError);
});

test('every bad setting is named in one readable error', () => {
  let message = '';
  try {
    loadConfig({ HTTP_PORT: 'eighty', RATE_LIMIT_REQUESTS: '-1', LOG_LEVEL: 'loud' });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/^Invalid configuration:/);
  expect(message).toMatch(/HTTP_PORT/);
  expect(message).toMatch(/RATE_LIMIT_REQUESTS/);
  expect(message).toMatch(/LOG_LEVEL/);
});

test('lists are split and trimmed', () => {
  expect(loadConfig({ OUTBOUND_ALLOWED_HOSTS: ' localhost, 127.0.0.1 ,' }).OUTBOUND_ALLOWED_HOSTS).toEqual([
    'localhost',
    '127.0.0.1',
  ]);
});

test('a TLS client certificate needs its key', () => {
  expect(() => loadConfig({ TEMPORAL_TLS_CERT_PATH: '/x.pem' })).toThrow(/TEMPORAL_TLS_KEY_PATH/);
});

test('exactly-once records are kept a day at least, or forever', () => {
  expect(loadConfig({}).RETENTION_ACTIVITY_EFFECTS).toBe(7 * 86_400_000);
  expect(loadConfig({ RETENTION_ACTIVITY_EFFECTS: '0d' }).RETENTION_ACTIVITY_EFFECTS).toBe(0);
  expect(loadConfig({ RETENTION_ACTIVITY_EFFECTS: '1d' }).RETENTION_ACTIVITY_EFFECTS).toBe(86_400_000);
  expect(() => loadConfig({ RETENTION_ACTIVITY_EFFECTS: '12h' })).toThrow(/RETENTION_ACTIVITY_EFFECTS: must be 0d/);
});

test('the crash-test hook names where the worker dies', () => {
  expect(loadConfig({}).TEST_CRASH_AFTER_COMMIT).toBe(false);
  expect(loadConfig({ TEST_CRASH_AFTER_COMMIT: 'true' }).TEST_CRASH_AFTER_COMMIT).toBe('attempt');
  expect(loadConfig({ TEST_CRASH_AFTER_COMMIT: 'forward' }).TEST_CRASH_AFTER_COMMIT).toBe('forward');
  expect(() => loadConfig({ TEST_CRASH_AFTER_COMMIT: 'later' })).toThrow(ConfigError);
});

test('TRUST_PROXY: off by default, a hop count, or proxy addresses; never "believe anyone"', () => {
  expect(loadConfig({}).TRUST_PROXY).toBe(false);
  expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
  expect(loadConfig({ TRUST_PROXY: '0' }).TRUST_PROXY).toBe(false);
  expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
  expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.7' }).TRUST_PROXY).toEqual([
    'loopback',
    '10.0.0.0/8',
    'fd00::/8',
    '192.0.2.7',
  ]);
  for (const bad of ['true', 'everyone', '10.0.0.0/33', '10.0.0/8', '::1/129', '1.2.3.4/8/9', ',']) {
    expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
  }
});

test('metrics are cached for 5 s by default; 0 turns the cache off', () => {
  expect(loadConfig({}).METRICS_CACHE_SECONDS).toBe(5);
  expect(loadConfig({ METRICS_CACHE_SECONDS: '0' }).METRICS_CACHE_SECONDS).toBe(0);
  expect(() => loadConfig({ METRICS_CACHE_SECONDS: '-1' })).toThrow(/METRICS_CACHE_SECONDS/);
});
