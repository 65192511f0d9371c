import { pinnedHostProblem, type PinnedHosts } from './pinned-hosts';

const pins = (custom: string[]): PinnedHosts => ({
  official: ['identity.xero.com', 'api.xero.com'],
  custom,
  settingName: 'PROVIDER_CUSTOM_HOSTS',
});
const check = (url: string, custom: string[] = []) => pinnedHostProblem(new URL(url), pins(custom));

test.each([
  ['https://identity.xero.com/connect/token', [], true],
  ['https://api.xero.com:443/api.xro/2.0', [], true],
  ['http://api.xero.com/api.xro/2.0', [], false],
  ['https://api.xero.com:8443/x', [], false],
  ['https://api.xero.com.evil.example/x', [], false],
  ['https://evil.example/x', [], false],
  ['http://127.0.0.1:4010/token', ['127.0.0.1'], true],
  ['http://127.0.0.1:4010/token', ['127.0.0.1:4010'], true],
  ['http://127.0.0.1:4011/token', ['127.0.0.1:4010'], false],
  ['http://[::1]:4010/token', ['[::1]:4010'], true],
  ['http://login.sovereign.example/token', ['*.sovereign.example'], false],
  ['https://login.sovereign.example/token', ['*.sovereign.example'], true],
  ['https://sovereign.example/token', ['*.sovereign.example'], false],
  ['http://localhost:9/x', ['localhost'], true],
  ['http://localhost:9/x', [], false],
] as Array<[string, string[], boolean]>)('%s with custom %j → allowed %s', (url, custom, allowed) => {
  expect(check(url, custom) === undefined).toBe(allowed);
});

test('a refusal names the setting that would allow the host', () => {
  expect(check('https://evil.example/x')).toMatch(/PROVIDER_CUSTOM_HOSTS/);
});
