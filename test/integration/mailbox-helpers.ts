import https from 'node:https';
import {
  authorityMetadataFor,
  startMicrosoftEmulator,
  type MicrosoftEmulator,
  type MicrosoftEmulatorOptions,
} from '../emulators/microsoft';
import { freePort } from '../harness/free-port';
import { eventually, fetchJson, startStack, type Stack } from '../harness/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
type AnyJson = any;

export const TENANT = 'contoso-tenant';
export const SUPPORT = 'support@contoso.test';
export const HELPDESK = 'helpdesk@contoso.test';
export const AGENT = 'agent@contoso.test';

export interface MailStack {
  stack: Stack;
  emulator: MicrosoftEmulator;
  /** An app with Mail.ReadWrite and Mail.Send application permissions (webhooks mailboxes). */
  app: { tenantId: string; clientId: string; clientSecret: string };
  stop(): Promise<void>;
}

/**
 * The product (api + worker processes) against the Microsoft emulator: the processes trust the
 * emulator's CA and know their public URL up front, so Graph can validate and notify them.
 */
export async function startMailStack(
  options: { emulator?: MicrosoftEmulatorOptions; env?: Record<string, string> } = {},
): Promise<MailStack> {
  const emulator = await startMicrosoftEmulator({ notificationDelayMs: 20, ...options.emulator });
  const port = await freePort();
  const stack = await startStack({
    NODE_EXTRA_CA_CERTS: emulator.caPath,
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    MAILBOX_RETRY_DELAY: '2s',
    MAILBOX_SWEEP_INTERVAL: '1h',
    MAIL_RETRY_INITIAL_SECONDS: '1',
    MAIL_PROCESS_ATTEMPTS: '2',
    MAIL_SCHEDULER_RETRIES: '0',
    ...options.env,
  });
  const app = emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.ReadWrite', 'Mail.Send'] });
  for (const mail of [SUPPORT, HELPDESK, AGENT]) emulator.addUser(TENANT, { mail });
  return {
    stack,
    emulator,
    app,
    stop: async () => {
      // MAILBOX_TEST_DUMP=/tmp/x keeps the product processes' logs of a run for diagnosis.
      if (process.env['MAILBOX_TEST_DUMP']) {
        const fs = await import('node:fs');
        fs.writeFileSync(`${process.env['MAILBOX_TEST_DUMP']}-worker.log`, stack.worker.output);
        fs.writeFileSync(`${process.env['MAILBOX_TEST_DUMP']}-api.log`, stack.api.output);
      }
      await stack.stop();
      await emulator.stop();
    },
  };
}

/** The `authority` setting pointing a mailbox at the emulator. */
export function emulatorAuthority(emulator: MicrosoftEmulator, tenantId = TENANT) {
  return {
    kind: 'custom',
    loginUrl: emulator.url,
    graphUrl: emulator.url,
    authorityMetadata: JSON.parse(authorityMetadataFor(emulator.url, tenantId)),
  };
}

/** Creates a mailbox (webhooks on SUPPORT unless told otherwise) and expects the 201. */
export async function createMailbox(m: MailStack, body: Record<string, unknown> = {}): Promise<AnyJson> {
  const res = await m.stack.request('POST', '/api/v1/mailboxes', {
    name: 'Support',
    tenantId: m.app.tenantId,
    clientId: m.app.clientId,
    clientSecret: m.app.clientSecret,
    authority: emulatorAuthority(m.emulator),
    method: 'webhooks',
    emailAddress: SUPPORT,
    ...body,
  });
  if (res.status !== 201) throw new Error(`mailbox not created: ${res.status} ${res.text}`);
  return res.body;
}

/** A webhooks mailbox at a made-up tenant: valid to the API, never reaching Microsoft; `over` replaces any part. */
export const madeUpMailbox = (over: Record<string, unknown> = {}) => ({
  name: 'made-up mailbox',
  tenantId: 'contoso.example',
  clientId: '11111111-2222-3333-4444-555555555555',
  clientSecret: 'secret',
  method: 'webhooks',
  emailAddress: 'support@contoso.example',
  ...over,
});

/** Creates a `madeUpMailbox` on `stack` and expects the 201. */
export async function createMadeUpMailbox(stack: Stack, over: Record<string, unknown> = {}): Promise<AnyJson> {
  const res = await stack.request('POST', '/api/v1/mailboxes', madeUpMailbox(over));
  if (res.status !== 201) throw new Error(`mailbox not created: ${res.status} ${res.text}`);
  return res.body;
}

/** Creates a mailbox (as `createMailbox` does) and its Graph subscription. */
export async function createSubscribedMailbox(m: MailStack, body: Record<string, unknown> = {}): Promise<AnyJson> {
  const mailbox = await createMailbox(m, body);
  await subscribe(m, mailbox.id);
  return mailbox;
}

/** Creates the Helpdesk mailbox that replies and notifications leave through (the outgoing default). */
export const createOutgoingHelpdesk = (m: MailStack) =>
  createMailbox(m, { name: 'Helpdesk (outgoing)', emailAddress: HELPDESK, outgoingDefault: true });

/**
 * The usual help desk: a mail stack with the Support mailbox subscribed, its replies and
 * notifications leaving through the Helpdesk outgoing default.
 */
export async function startSupportDesk(
  options: Parameters<typeof startMailStack>[0] = {},
): Promise<{ m: MailStack; support: AnyJson }> {
  const m = await startMailStack(options);
  const support = await createMailbox(m);
  await createOutgoingHelpdesk(m);
  await subscribe(m, support.id);
  return { m, support };
}

/** Creates the subscription through the API and expects success. */
export async function subscribe(m: MailStack, mailboxId: string): Promise<AnyJson> {
  const res = await m.stack.request('POST', `/api/v1/mailboxes/${mailboxId}/subscription`);
  if (res.status !== 201 && res.status !== 200) throw new Error(`subscription failed: ${res.status} ${res.text}`);
  return res.body;
}

/** The inbound log of a mailbox (first 500). */
export async function inboundLog(m: MailStack, mailboxId: string): Promise<AnyJson[]> {
  const res = await m.stack.request('GET', `/api/v1/mailboxes/${mailboxId}/inbound-log?limit=500`);
  if (res.status !== 200) throw new Error(`inbound log: ${res.status} ${res.text}`);
  return res.body.data;
}

/** Waits until the inbound log has an entry for this internet message id (or Graph id) in a final state. */
export async function processed(
  m: MailStack,
  mailboxId: string,
  messageId: string,
  timeoutMs = 30_000,
): Promise<AnyJson> {
  return eventually(async () => {
    const log = await inboundLog(m, mailboxId);
    const entry = log.find((e) => e.internetMessageId === messageId || e.graphMessageId === messageId);
    return entry && ['ticket_created', 'ticket_updated', 'duplicate', 'skipped', 'failed'].includes(entry.status)
      ? entry
      : undefined;
  }, timeoutMs);
}

export async function ticket(m: MailStack, id: string): Promise<AnyJson> {
  const res = await m.stack.request('GET', `/api/v1/tickets/${id}`);
  if (res.status !== 200) throw new Error(`ticket: ${res.status} ${res.text}`);
  return res.body;
}

/** The mailbox workflow's state, through the API. */
export async function workflowState(m: MailStack, mailboxId: string): Promise<AnyJson> {
  const res = await m.stack.request('GET', `/api/v1/mailboxes/${mailboxId}/subscription`);
  return res.body;
}

/** GET over HTTPS trusting the emulator CA (the Jest process did not start with NODE_EXTRA_CA_CERTS). */
export function httpsGet(url: string, ca: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      })
      .on('error', reject);
  });
}

/** Runs the delegated sign-in: authorize URL → emulator consent → our /azure/auth callback. */
export async function signIn(m: MailStack, mailboxId: string): Promise<{ status: number; text: string }> {
  const started = await m.stack.request('POST', `/api/v1/mailboxes/${mailboxId}/authorize`);
  if (started.status !== 200) throw new Error(`authorize: ${started.status} ${started.text}`);
  const consent = await httpsGet(started.body.authorizeUrl, m.emulator.caPem);
  if (consent.status !== 302 || !consent.location) throw new Error(`consent: ${consent.status}`);
  // The browser that started the sign-in comes back with its consent cookie.
  const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0]!;
  const callback = await fetchJson(consent.location, { headers: { cookie } });
  return { status: callback.status, text: callback.text };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
