import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { countByKey } from '../../src/platform/security/key-rotation';
import { generateMasterKey } from '../../src/platform/security/secret-box';
import { STORED_SECRETS } from '../../src/stored-secrets';
import { signStandardWebhook } from '../emulators/webhook-sender';
import { freePort } from '../harness/free-port';
import { ROOT } from '../harness/paths';
import { ProductProcess } from '../harness/processes';
import { Receiver } from '../harness/receiver';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';
import { createWebhook, emit, ticketEvent } from './outgoing-helpers';

/**
 * Rotating the master key while the product runs: the API (verifying generic webhooks with a
 * stored secret) and the worker (signing outgoing deliveries with one) keep working before,
 * during and after `npm run keys -- rotate`, and afterwards the old key is no longer needed.
 */
const OLD = generateMasterKey('old');
const NEW = generateMasterKey('new');
let stack: Stack;
let receiver: Receiver;
let generic: { id: string; signingSecret: string };

beforeAll(async () => {
  receiver = await Receiver.start();
  stack = await startStack({ SWITCHYARD_MASTER_KEY: OLD, HTTP_PORT: String(await freePort()) });
  const created = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'rotation' });
  expect(created.status).toBe(201);
  generic = created.body;
  await createWebhook(stack, receiver, '/rotation');
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

/** Restarts the API (same port) and the worker with other key settings. */
async function restart(keys: Record<string, string>) {
  await Promise.all([stack.api.stop(), stack.worker.stop()]);
  const env = { ...stack.env, SWITCHYARD_PREVIOUS_KEYS: '', ...keys };
  stack.env = env;
  stack.worker = new ProductProcess('src/worker.ts', env);
  stack.api = new ProductProcess('src/server.ts', env);
  await Promise.all([stack.worker.start(/worker running/), stack.api.start(/"msg":"api listening"/)]);
}

/** One signed generic webhook through the API; its status. */
async function sendGeneric(n: string) {
  const body = JSON.stringify({ type: 'Invoice updated', id: n });
  const res = await fetchJson(`${stack.apiUrl}/hooks/generic/${generic.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signStandardWebhook(body, generic.signingSecret) },
    body,
  });
  return res.status;
}

/** Emits an event and waits for its delivery, verified with the webhook's secret by `standardwebhooks`. */
async function deliveredAndVerified(objectId: string) {
  await emit(stack, ticketEvent({ objectId }));
  const got = await eventually(async () =>
    receiver.requests('/rotation').find((r) => JSON.stringify(r.json).includes(objectId)),
  );
  return got.verified[0];
}

const keyIds = async () => new Set((await countByKey(stack.db, STORED_SECRETS)).map((r) => r.keyId));

test('rotate with the API and worker running: they keep decrypting before, during and after', async () => {
  expect(await sendGeneric('before')).toBe(202);
  expect(await deliveredAndVerified('T-before')).toBe(true);
  expect(await keyIds()).toEqual(new Set(['old']));

  // Step 1: every process gets the new key, the old one as a previous key.
  await restart({ SWITCHYARD_MASTER_KEY: NEW, SWITCHYARD_PREVIOUS_KEYS: OLD });
  expect(await sendGeneric('both-keys')).toBe(202);
  expect(await deliveredAndVerified('T-both-keys')).toBe(true);

  // Step 2: rotate while webhooks and events keep flowing.
  let flowing = true;
  const statuses: number[] = [];
  const traffic = (async () => {
    for (let i = 0; flowing; i++) {
      statuses.push(await sendGeneric(`during-${i}`));
      await emit(stack, ticketEvent({ objectId: `T-during-${i}` }));
    }
  })();
  const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/keys-cli.ts', 'rotate'], {
    cwd: ROOT,
    env: { ...stack.env, SWITCHYARD_MASTER_KEY: NEW, SWITCHYARD_PREVIOUS_KEYS: OLD },
  });
  flowing = false;
  await traffic;
  expect(run.stdout).toMatch(/integrations\.secrets_enc: \d+ re-encrypted/);
  expect(run.stdout).toMatch(/webhooks\.secrets_enc: 1 re-encrypted/);
  expect(run.stdout).toMatch(/^done:/m);
  expect(statuses.length).toBeGreaterThan(0);
  expect(statuses.every((s) => s === 202)).toBe(true);
  expect(await keyIds()).toEqual(new Set(['new']));
  // Every event sent during the rotation was delivered and verified.
  await eventually(async () => {
    const during = receiver.requests('/rotation').filter((r) => JSON.stringify(r.json).includes('T-during-'));
    return during.length === statuses.length && during.every((r) => r.verified[0]);
  });

  // Step 3: the old key is no longer needed.
  await restart({ SWITCHYARD_MASTER_KEY: NEW });
  expect(await sendGeneric('after')).toBe(202);
  expect(await deliveredAndVerified('T-after')).toBe(true);
  const status = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/keys-cli.ts', 'status'], {
    cwd: ROOT,
    env: stack.env,
  });
  expect(status.stdout).toMatch(/current key: new/);
  expect(status.stdout).not.toMatch(/under old/);
});

test('outside npm start, an API or worker without SWITCHYARD_MASTER_KEY refuses to start and names the setting', async () => {
  const env: NodeJS.ProcessEnv = { ...stack.env, HTTP_PORT: '0' };
  delete env['SWITCHYARD_MASTER_KEY'];
  for (const script of ['src/server.ts', 'src/worker.ts']) {
    const proc = new ProductProcess(script, env);
    await proc.start(/SWITCHYARD_MASTER_KEY is not set/);
    const child = proc.child!;
    const code = child.exitCode ?? (await new Promise((r) => child.once('exit', r)));
    expect(code).toBe(1);
  }
});
