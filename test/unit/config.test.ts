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
