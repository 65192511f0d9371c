import { randomUUID } from 'node:crypto';
import { ProductProcess } from '../harness/processes';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';
import { postSignedGeneric } from './incoming-helpers';

// Every process of this stack runs with its intake starter off: what ingress commits waits in the
// outbox until a process with a starter comes along, as if the one that answered had died.
let stack: Stack;
const extraApis: ProductProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ INTAKE_STARTER_ENABLED: 'false', RATE_LIMIT_REQUESTS: '0' });
});
afterEach(async () => {
  // Each test decides which replicas run starters: none from an earlier test may linger.
  await Promise.all(extraApis.splice(0).map((a) => a.stop()));
});
afterAll(async () => {
  await stack?.stop();
});

/** Another API replica on the same database and task queue, with its starter on. */
async function startApi(env: Record<string, string> = {}): Promise<{ proc: ProductProcess; url: string }> {
  const proc = new ProductProcess('src/server.ts', { ...stack.env, INTAKE_STARTER_ENABLED: 'true', ...env });
  extraApis.push(proc);
  const m = await proc.start(/"port":(\d+),"msg":"api listening"/);
  return { proc, url: `http://127.0.0.1:${m[1]}` };
}

async function createIntegration(body: Record<string, unknown> = {}) {
  const res = await stack.request('POST', '/api/v1/integrations', { provider: 'generic', name: 'Intake', ...body });
  expect(res.status).toBe(201);
  return res.body as { id: string; signingSecret: string };
}

function send(apiUrl: string, integration: { id: string; signingSecret: string }, n: number) {
  const body = JSON.stringify({ type: 'Invoice updated', id: `INV-${n}`, n, nonce: randomUUID() });
  return postSignedGeneric(apiUrl, integration, body);
}

const count = async (sql: string, args: unknown[] = []) => Number((await stack.db.query(sql, args)).rows[0].n);

/** Waits until every webhook of the integration is processed, then checks each ran exactly once. */
async function expectProcessedOnce(integrationId: string, n: number) {
  await eventually(
    async () =>
      (await count(`SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1 AND status = 'succeeded'`, [
        integrationId,
      ])) === n,
    90_000,
    500,
  );
  const attempts = await stack.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM incoming_webhook_attempts a JOIN incoming_webhooks w ON w.id = a.webhook_id
     WHERE w.integration_id = $1 GROUP BY a.webhook_id`,
    [integrationId],
  );
  expect(attempts.rows).toHaveLength(n);
  expect(attempts.rows.every((r) => Number(r.n) === 1)).toBe(true);
}

test('answers come from PostgreSQL: a burst is accepted with no starter running, then the API answering it is killed; every webhook is processed once after a restart', async () => {
  const integration = await createIntegration({ processingMethod: 'service_immediate' });
  const { proc, url } = await startApi({ INTAKE_STARTER_ENABLED: 'false' });
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => send(url, integration, i)));
  expect(answers.map((a) => a.status)).toEqual(Array(40).fill(202));
  await proc.stop('SIGKILL');

  // Accepted means committed: the work and its start wait in the outbox, nothing ran yet.
  expect(
    await count(`SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1 AND status = 'queued'`, [
      integration.id,
    ]),
  ).toBe(40);
  expect(await count(`SELECT count(*) AS n FROM intake_jobs WHERE kind = 'inbound.start'`)).toBeGreaterThanOrEqual(40);

  await startApi();
  await expectProcessedOnce(integration.id, 40);
  await eventually(async () => (await count('SELECT count(*) AS n FROM intake_jobs')) === 0);
});

test('two API replicas with starters never hand one item to Temporal twice', async () => {
  const integration = await createIntegration();
  const [a, b] = await Promise.all([startApi({ LOG_LEVEL: 'debug' }), startApi({ LOG_LEVEL: 'debug' })]);
  const answers = await Promise.all(Array.from({ length: 120 }, (_, i) => send(i % 2 ? a.url : b.url, integration, i)));
  expect(answers.every((r) => r.status === 202)).toBe(true);
  await expectProcessedOnce(integration.id, 120);

  const handed = [a, b].flatMap(({ proc }) =>
    [...proc.output.matchAll(/"workflowId":"(inbound:[^"]+)"[^\n]*"msg":"handed to temporal"/g)].map((m) => m[1]!),
  );
  const ours = handed.filter((id) => id.startsWith(`inbound:${integration.id}:`));
  expect(ours).toHaveLength(120);
  expect(new Set(ours).size).toBe(120);
  // Both replicas took part.
  const byReplica = [a, b].map(
    ({ proc }) =>
      (proc.output.match(new RegExp(`inbound:${integration.id}:[^"]+"[^\\n]*handed to temporal`, 'g')) ?? []).length,
  );
  expect(byReplica.every((n) => n > 0)).toBe(true);
});

test('a manual retry whose start was interrupted is started later', async () => {
  // A forward to a closed port fails the webhook's only attempt (default method).
  const integration = await createIntegration({ settings: { forwardUrl: 'http://127.0.0.1:9/nowhere' } });
  const { url } = await startApi();
  const res = await send(url, integration, 1);
  const id = res.body.id as string;
  await eventually(
    async () => (await stack.request('GET', `/api/v1/incoming-webhooks/${id}`)).body.status === 'failed',
    60_000,
  );
  const replica = extraApis.pop()!;
  await replica.stop('SIGKILL');

  // The stack's own API has no starter: the retry is committed, answered, and waits.
  const retry = await stack.request('POST', `/api/v1/incoming-webhooks/${id}/retry`);
  expect(retry.status).toBe(202);
  expect(retry.body).toMatchObject({ outcome: 'queued', attempt: 2 });
  expect(await count(`SELECT count(*) AS n FROM intake_jobs WHERE workflow_id = $1`, [retry.body.workflowId])).toBe(1);
  expect((await stack.request('GET', `/api/v1/incoming-webhooks/${id}`)).body.status).toBe('queued');

  await startApi();
  const detail = await eventually(async () => {
    const d = (await stack.request('GET', `/api/v1/incoming-webhooks/${id}`)).body;
    return d.status === 'failed' && d.attempts.length === 2 ? d : undefined;
  }, 60_000);
  expect(detail.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2]);
});

test('the backlog appears in /metrics and /readyz, and past its ceiling ingress answers 503 with Retry-After', async () => {
  const integration = await createIntegration();
  // Rows due in an hour stand in for a backlog no starter can clear.
  await stack.db.query(
    `INSERT INTO intake_jobs (kind, workflow_id, payload, created_at, run_after)
     SELECT 'test.noop', 'noop-' || g, '{}', now() - interval '30 seconds', now() + interval '1 hour' FROM generate_series(1, 5) g`,
  );
  const { url } = await startApi({ INTAKE_BACKLOG_LIMIT: '3', INTAKE_RETRY_AFTER_SECONDS: '7' });
  const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/^switchyard_intake_backlog 5$/m);
  expect(Number(/^switchyard_intake_oldest_age_seconds (\S+)$/m.exec(metrics)![1])).toBeGreaterThanOrEqual(30);
  // The backlog is a detail /readyz shows an admin credential, not an anonymous probe.
  const ready = await fetchJson(`${url}/readyz`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
  expect(ready.body.intake).toMatchObject({ pending: 5 });

  // The gate reads a backlog figure at most a second old: the first request may still pass.
  let acceptedBefore = 0;
  const refused = await eventually(async () => {
    const r = await send(url, integration, 1);
    if (r.status === 202) acceptedBefore++;
    return r.status === 503 ? r : undefined;
  });
  expect(refused.headers.get('retry-after')).toBe('7');
  expect(refused.body.error.code).toBe('backlog_full');
  // The refused request wrote nothing.
  expect(await count('SELECT count(*) AS n FROM incoming_webhooks WHERE integration_id = $1', [integration.id])).toBe(
    acceptedBefore,
  );
  const logged = await stack.request('GET', `/api/v1/inbound-requests?outcome=rejected`);
  expect(logged.body.data.some((r: { responseStatus: number }) => r.responseStatus === 503)).toBe(true);
  await stack.db.query(`DELETE FROM intake_jobs WHERE kind = 'test.noop'`);
});
