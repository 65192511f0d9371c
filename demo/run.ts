/**
 * `npm run demo`: the embedded stack with the emulators, configured and played through a short
 * scenario — an email becomes a ticket, the ticket goes out as a signed webhook, and a Xero
 * invoice update goes out as a batched webhook. It then keeps running so you can look around.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { startEmbeddedStack } from '../bench/lib';
import { ensureEmulatorCa, startMicrosoftEmulator, authorityMetadataFor } from '../test/emulators/microsoft';
import { buildXeroPayload, sendXeroWebhook } from '../test/emulators/webhook-sender';
import { startXeroEmulator } from '../test/emulators/xero';
import { Receiver } from '../test/harness/receiver';

const say = (line = '') => process.stdout.write(`${line}\n`);
const wait = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
};

async function main() {
  const dataDir = path.resolve('.data', 'demo');
  const { caPath } = await ensureEmulatorCa(path.join(dataDir, 'emulator-ca'));
  const microsoft = await startMicrosoftEmulator({
    certDir: path.join(dataDir, 'emulator-ca'),
    notificationDelayMs: 50,
  });
  const tenantId = 'contoso-demo';
  const app = microsoft.registerApp({ tenantId, permissions: ['Mail.ReadWrite', 'Mail.Send'] });
  microsoft.addUser(tenantId, { mail: 'support@contoso.demo', displayName: 'Contoso Support' });

  const xeroClient = { clientId: 'switchyard-demo', clientSecret: 'demo-xero-secret-0123456789' };
  const xeroTenant = randomUUID();
  const xero = await startXeroEmulator({
    clients: [xeroClient],
    tenants: [{ tenantId: xeroTenant, name: 'Demo Company (Global)' }],
  });
  const receiver = await Receiver.start();

  say('Starting Switchyard (embedded Temporal + PostgreSQL, worker, API) …');
  const stack = await startEmbeddedStack({
    NODE_EXTRA_CA_CERTS: caPath,
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1,localhost',
    PROVIDER_CUSTOM_HOSTS: '127.0.0.1,localhost',
    LOG_LEVEL: 'warn',
  });
  const { call } = stack;

  // Subscribers: tickets one by one, invoices batched.
  const tickets = await call('POST', '/api/v1/webhooks', {
    name: 'Ticket feed (MSPbots-style)',
    url: receiver.url('/tickets'),
    events: [{ type: 'New Ticket Logged' }, { type: 'Ticket Changed' }],
  });
  receiver.setSecrets('/tickets', [tickets.signingSecret]);
  const invoices = await call('POST', '/api/v1/webhooks', {
    name: 'Invoice feed (batched)',
    url: receiver.url('/invoices'),
    events: [{ type: 'Invoice created' }, { type: 'Invoice updated' }],
    batching: { mode: 'any_event', waitSeconds: 3, maxItems: 50 },
  });
  receiver.setSecrets('/invoices', [invoices.signingSecret]);

  // A Microsoft 365 mailbox on the Graph webhook method, pointed at the emulator.
  const mailbox = await call('POST', '/api/v1/mailboxes', {
    name: 'Contoso support',
    tenantId,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    authority: {
      kind: 'custom',
      loginUrl: microsoft.url,
      graphUrl: microsoft.url,
      authorityMetadata: JSON.parse(authorityMetadataFor(microsoft.url, tenantId)),
    },
    method: 'webhooks',
    emailAddress: 'support@contoso.demo',
  });
  const subscription = await call('POST', `/api/v1/mailboxes/${mailbox.id}/subscription`, {});

  // A Xero integration (delayed method: batched, rate-limited resource fetches).
  const code = xero.issueAuthorizationCode({ clientId: xeroClient.clientId });
  const tokenRes = await fetch(`${xero.url}/connect/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${xeroClient.clientId}:${xeroClient.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
  });
  const { refresh_token: refreshToken } = (await tokenRes.json()) as { refresh_token: string };
  const webhookKey = 'demo-xero-webhook-key-0123456789abcdefghijklmnop';
  const integration = await call('POST', '/api/v1/integrations', {
    provider: 'xero',
    name: 'Demo Company (Global)',
    processingMethod: 'service_delayed',
    webhookKey,
    clientSecret: xeroClient.clientSecret,
    refreshToken,
    settings: {
      clientId: xeroClient.clientId,
      tokenUrl: `${xero.url}/connect/token`,
      apiBaseUrl: `${xero.url}/api.xro/2.0`,
    },
  });

  say('Configured: 2 outgoing webhooks, a mailbox with a Graph subscription, a Xero integration.');
  say(`  subscription ${subscription.id} expires ${subscription.expiresAt}`);

  // 1. An email arrives → ticket → "New Ticket Logged" → signed webhook.
  const sent = microsoft.deliverMessage('support@contoso.demo', {
    from: 'Alice Example <alice@customer.demo>',
    subject: 'Printer on the 3rd floor is on fire',
    body: 'Smoke everywhere. Please help.',
    uniqueBody: 'Smoke everywhere. Please help.',
  });
  const ticketHook = (await wait('the ticket webhook', async () => receiver.requests('/tickets')[0]))!;
  say();
  say(`1. Email "${sent.subject}" → ticket → signed webhook to the subscriber`);
  say(
    `   event ${ticketHook.json?.event ?? ticketHook.json?.eventName ?? '(see body)'}; signature verified by standardwebhooks: ${ticketHook.verified[0]}`,
  );

  // 2. Xero invoices change → webhook to our ingress → batched fetch → "Invoice updated" → one batched delivery.
  const invoiceIds = [1, 2, 3].map(
    (n) =>
      xero.upsertInvoice(xeroTenant, { InvoiceNumber: `INV-00${n}`, Total: 100 * n, Status: 'AUTHORISED' }).InvoiceID,
  );
  const payload = buildXeroPayload(
    invoiceIds.map((id) => ({ resourceId: id, tenantId: xeroTenant, eventCategory: 'INVOICE', eventType: 'UPDATE' })),
  );
  const ack = await sendXeroWebhook(`${stack.apiUrl}/hooks/xero/${integration.id}`, payload, webhookKey);
  const batch = (await wait('the batched invoice webhook', async () => receiver.requests('/invoices')[0]))!;
  say();
  say(
    `2. Xero webhook with ${invoiceIds.length} invoice updates → ingress answered ${ack.status} in ${Math.round(ack.durationMs)} ms`,
  );
  say(
    `   → resource data fetched from the Xero emulator in ${xero.stats().apiCallsServed} API call(s) → one batched delivery of ${Array.isArray(batch.json) ? batch.json.length : 1} item(s), signature verified: ${batch.verified[0]}`,
  );

  say();
  say('Where to look:');
  say(`  Console:      ${stack.apiUrl}/console/   (API key: ${stack.apiKey})`);
  say(`  Temporal UI:  ${stack.temporalUiUrl}`);
  say(`  OpenAPI:      ${stack.apiUrl}/api/v1/openapi.json     Metrics: ${stack.apiUrl}/metrics`);
  say('Press Ctrl-C to stop the demo.');

  const stop = async () => {
    await stack.stop();
    await Promise.all([microsoft.stop(), xero.stop(), receiver.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (process.argv.includes('--exit')) await stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
