import { spawn } from 'node:child_process';
import path from 'node:path';
import { startMicrosoftEmulator } from './index';
import type { MicrosoftEmulator } from './index';
import { startReceiver } from './test-support';
import type { Receiver } from './test-support';

const TENANT = '0c6d1e2a-4c1b-4b52-9a51-1f6f1c4b52aa';
const REPO_ROOT = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(__dirname, 'fixtures', 'sdk-clients.ts');

/** Runs a fixture with NODE_EXTRA_CA_CERTS set before the child starts, and parses its last stdout line. */
function runFixture(emulator: MicrosoftEmulator, config: unknown): Promise<Record<string, Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: emulator.caPath, SDK_FIXTURE_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Record<string, Record<string, unknown>>);
      } catch {
        reject(new Error(`fixture printed no JSON.\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

describe('Microsoft emulator: unmodified MSAL Node and Graph SDK in a child process', () => {
  let emulator: MicrosoftEmulator;
  let receiver: Receiver;

  beforeAll(async () => {
    emulator = await startMicrosoftEmulator();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await emulator.stop();
    await receiver.close();
  });

  it('acquires tokens, reads mail, subscribes, retries a 429 and runs the delegated flow', async () => {
    const app = emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.ReadWrite'] });
    const delegated = emulator.registerApp({
      tenantId: TENANT,
      permissions: ['Mail.ReadWrite'],
      redirectUris: ['https://switchyard.test/azure/auth'],
    });
    emulator.addUser(TENANT, { id: 'sdk-user', mail: 'sdk@contoso.test' });
    const message = emulator.deliverMessage('sdk@contoso.test', {
      from: 'c@example.test',
      subject: 'Hello SDK',
      body: 'x',
    });
    emulator.deliverMessage('sdk@contoso.test', { from: 'd@example.test', subject: 'Second', body: 'y' });
    emulator.failNext(1, 429, { retryAfter: 1, match: '/mailFolders/inbox/messages?' });

    const output = await runFixture(emulator, {
      url: emulator.url,
      tenantId: TENANT,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      mailbox: 'sdk@contoso.test',
      messageId: message.immutableId,
      notificationUrl: receiver.url,
      delegated: {
        clientId: delegated.clientId,
        clientSecret: delegated.clientSecret,
        redirectUri: 'https://switchyard.test/azure/auth',
      },
    });

    expect(output['fatal']).toBeUndefined();
    expect(output['clientCredentials']).toEqual({ hasToken: true, tokenType: 'Bearer' });
    expect(output['wrongSecret']).toMatchObject({ errorCode: 'invalid_client' });
    expect(output['message']).toEqual({ id: message.immutableId, subject: 'Hello SDK', hasHeaders: true });
    expect(output['subscription']).toMatchObject({ id: expect.any(String), clientState: 'sdk-client-state' });
    expect(receiver.validations).toHaveLength(1);
    expect(output['retry']).toMatchObject({ count: 2 });
    expect(output['retry']?.['elapsedMs']).toBeGreaterThanOrEqual(950);
    expect(output['delta']).toEqual({ pages: 2, hasDeltaLink: true });
    expect(output['delegated']).toMatchObject({
      username: 'sdk@contoso.test',
      homeAccountId: `sdk-user.${TENANT}`,
      refreshedToken: true,
      meCount: 2,
    });
    // authorityMetadata + knownAuthorities mean MSAL never needs discovery.
    expect(Object.keys(emulator.stats().calls).filter((endpoint) => endpoint.includes('discovery'))).toEqual([]);
    expect(emulator.stats()).toMatchObject({
      injectedFaults: 1,
      calls: expect.objectContaining({ 'GET /users/{id}/mailFolders/{id}/messages': 2 }),
    });
  }, 30_000);
});
