import { parseXeroBody, xeroEvents } from '../../src/incoming/xero/provider';
import {
  buildXeroPayload,
  sendXeroWebhook,
  signStandardWebhook,
  type XeroWebhookPayload,
} from '../emulators/webhook-sender';
import {
  startQuickBooksEmulator,
  type QuickBooksEmulator,
  type QuickBooksEmulatorOptions,
} from '../emulators/quickbooks';
import { startXeroEmulator, type XeroEmulator, type XeroEmulatorOptions } from '../emulators/xero';
import { eventually, fetchJson, type Stack } from '../harness/stack';

export const XERO_CLIENT = { clientId: 'switchyard-test-app', clientSecret: 'xero-client-secret-0123456789' };
export const QBO_CLIENT = { clientId: 'switchyard-qbo-app', clientSecret: 'qbo-client-secret-0123456789' };
export const WEBHOOK_KEY = 'xero-webhook-key-abcdefghijklmnopqrstuvwxyz0123456789';
export const VERIFIER_TOKEN = 'qbo-verifier-token-0123456789';

async function exchangeCode(
  tokenUrl: string,
  client: { clientId: string; clientSecret: string },
  form: Record<string, string>,
) {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as { refresh_token?: string };
  if (!body.refresh_token) throw new Error(`no refresh token from ${tokenUrl}: ${JSON.stringify(body)}`);
  return body.refresh_token;
}

/** A Xero emulator with our app registered, one tenant, and a refresh token from a consent. */
export async function startXero(tenantId: string, options: XeroEmulatorOptions = {}) {
  const xero = await startXeroEmulator({ clients: [XERO_CLIENT], tenants: [{ tenantId }], ...options });
  return { xero, refreshToken: await xeroConsent(xero) };
}

/** Forgets the faults an emulator was told to inject and what it counted: a test starts from a healthy provider. */
export function resetEmulator(emulator: { clearFaults(): void; resetStats(): void }) {
  emulator.clearFaults();
  emulator.resetStats();
}

/** A new refresh token for the realm, as another "Connect to QuickBooks" consent would give. */
export async function quickBooksConsent(qbo: QuickBooksEmulator, realmId: string): Promise<string> {
  const redirect = 'https://switchyard.example/callback';
  const code = qbo.issueAuthorizationCode({ clientId: QBO_CLIENT.clientId, realmId, redirectUri: redirect });
  return exchangeCode(`${qbo.url}/oauth2/v1/tokens/bearer`, QBO_CLIENT, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirect,
  });
}

/** A Xero refresh token from another consent (each integration rotates its own). */
export async function xeroConsent(xero: XeroEmulator): Promise<string> {
  const code = xero.issueAuthorizationCode({ clientId: XERO_CLIENT.clientId });
  return exchangeCode(`${xero.url}/connect/token`, XERO_CLIENT, { grant_type: 'authorization_code', code });
}

/** A QuickBooks emulator with our app registered, one realm, and a refresh token from a consent. */
export async function startQuickBooks(realmId: string, options: QuickBooksEmulatorOptions = {}) {
  const qbo = await startQuickBooksEmulator({ clients: [QBO_CLIENT], realms: [{ realmId }], ...options });
  return { qbo, refreshToken: await quickBooksConsent(qbo, realmId) };
}

export async function createXeroIntegration(
  stack: Stack,
  xero: XeroEmulator,
  refreshToken: string,
  over: { processingMethod?: string; settings?: Record<string, unknown>; name?: string } = {},
): Promise<{ id: string }> {
  const res = await stack.request('POST', '/api/v1/integrations', {
    provider: 'xero',
    name: over.name ?? 'Xero test org',
    processingMethod: over.processingMethod ?? 'default',
    webhookKey: WEBHOOK_KEY,
    clientSecret: XERO_CLIENT.clientSecret,
    refreshToken,
    settings: {
      clientId: XERO_CLIENT.clientId,
      tokenUrl: `${xero.url}/connect/token`,
      apiBaseUrl: `${xero.url}/api.xro/2.0`,
      ...over.settings,
    },
  });
  if (res.status !== 201) throw new Error(`xero integration not created: ${res.status} ${res.text}`);
  return res.body;
}

export async function createQuickBooksIntegration(
  stack: Stack,
  qbo: QuickBooksEmulator,
  refreshToken: string,
  over: { processingMethod?: string; settings?: Record<string, unknown> } = {},
): Promise<{ id: string }> {
  const res = await stack.request('POST', '/api/v1/integrations', {
    provider: 'quickbooks',
    name: 'QuickBooks test company',
    processingMethod: over.processingMethod ?? 'default',
    verifierToken: VERIFIER_TOKEN,
    clientSecret: QBO_CLIENT.clientSecret,
    refreshToken,
    settings: {
      clientId: QBO_CLIENT.clientId,
      tokenUrl: `${qbo.url}/oauth2/v1/tokens/bearer`,
      apiBaseUrl: qbo.url,
      ...over.settings,
    },
  });
  if (res.status !== 201) throw new Error(`quickbooks integration not created: ${res.status} ${res.text}`);
  return res.body;
}

/**
 * A QuickBooks integration at made-up Intuit hosts (`*.intuit.example`, which the stack must allow
 * past the provider-host pin): its webhooks verify and are stored, its calls out never connect.
 */
export async function createMadeUpQuickBooks(
  stack: Stack,
  over: { name: string; verifierToken: string },
): Promise<{ id: string }> {
  const res = await stack.request('POST', '/api/v1/integrations', {
    provider: 'quickbooks',
    ...over,
    clientSecret: 'qbo-client-secret-0123456789',
    refreshToken: 'refresh-token',
    settings: {
      clientId: 'app',
      tokenUrl: 'https://oauth.intuit.example/oauth2/v1/tokens/bearer',
      apiBaseUrl: 'https://quickbooks.intuit.example/v3',
    },
  });
  if (res.status !== 201) throw new Error(`quickbooks integration not created: ${res.status} ${res.text}`);
  return res.body;
}

/** Waits until the incoming webhook reaches one of `statuses`; returns its detail. */
export async function webhookIn(stack: Stack, id: string, statuses: string[], timeoutMs = 30_000) {
  return eventually(async () => {
    const res = await stack.request('GET', `/api/v1/incoming-webhooks/${id}`);
    return statuses.includes(res.body?.status) ? res.body : undefined;
  }, timeoutMs);
}

/** Waits (polling the database, not the rate-limited API) until every webhook reaches one of `statuses`. */
export async function allIn(stack: Stack, ids: string[], statuses: string[], timeoutMs = 60_000) {
  await eventually(
    async () => {
      const { rows } = await stack.db.query(
        'SELECT count(*) AS n FROM incoming_webhooks WHERE id = ANY($1) AND status = ANY($2)',
        [ids, statuses],
      );
      return Number(rows[0].n) === ids.length;
    },
    timeoutMs,
    250,
  );
  const { rows } = await stack.db.query(
    'SELECT id, status, entity_id, attempts_made FROM incoming_webhooks WHERE id = ANY($1)',
    [ids],
  );
  return rows as Array<{ id: string; status: string; entity_id: string; attempts_made: number }>;
}

/** Counts rows for a query with one count column `n`. */
export const countRows = async (stack: Stack, sql: string, args: unknown[] = []) =>
  Number((await stack.db.query(sql, args)).rows[0].n);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends a signed Xero webhook. Xero gets a bare 200, so the ids of what was stored come from the
 * database: the webhooks whose delivery keys the payload's events make, in event order.
 */
export async function sendXero(stack: Stack, integrationId: string, payload: XeroWebhookPayload) {
  const res = await sendXeroWebhook(`${stack.apiUrl}/hooks/xero/${integrationId}`, payload, WEBHOOK_KEY);
  const keys = xeroEvents(parseXeroBody(payload)).map((e) => e.deliveryKey);
  const { rows } = await stack.db.query<{ id: string; delivery_key: string }>(
    'SELECT id, delivery_key FROM incoming_webhooks WHERE integration_id = $1 AND delivery_key = ANY($2)',
    [integrationId, keys],
  );
  const byKey = new Map(rows.map((r) => [r.delivery_key, r.id]));
  return { ...res, ids: [...new Set(keys)].flatMap((k) => (byKey.has(k) ? [byKey.get(k)!] : [])) };
}

/** Settings pointing every Xero URL (API, token, consent, connections, revocation) at the emulator. */
export const xeroConnectSettings = (emu: XeroEmulator) => ({
  clientId: XERO_CLIENT.clientId,
  tokenUrl: `${emu.url}/connect/token`,
  apiBaseUrl: `${emu.url}/api.xro/2.0`,
  authorizeUrl: `${emu.url}/identity/connect/authorize`,
  connectionsUrl: `${emu.url}/connections`,
  revocationUrl: `${emu.url}/connect/revocation`,
});

/**
 * A Xero integration with every URL at the emulator. Without `refreshToken` it holds no tokens:
 * it is connected through the consent flow.
 */
export async function createConnectableXero(
  stack: Stack,
  xero: XeroEmulator,
  over: { name: string; refreshToken?: string; settings?: Record<string, unknown> },
): Promise<{ id: string }> {
  const res = await stack.request('POST', '/api/v1/integrations', {
    provider: 'xero',
    name: over.name,
    webhookKey: WEBHOOK_KEY,
    clientSecret: XERO_CLIENT.clientSecret,
    ...(over.refreshToken === undefined ? {} : { refreshToken: over.refreshToken }),
    settings: { ...xeroConnectSettings(xero), ...over.settings },
  });
  if (res.status !== 201) throw new Error(`xero integration not created: ${res.status} ${res.text}`);
  return res.body;
}

/** Xero changes an invoice of `tenantId` and says so in a signed webhook to `integrationId`. */
export async function sendInvoiceUpdated(
  stack: Stack,
  xero: XeroEmulator,
  integrationId: string,
  tenantId: string,
  fields: Parameters<XeroEmulator['upsertInvoice']>[1],
) {
  const invoice = xero.upsertInvoice(tenantId, fields);
  const sent = await sendXero(
    stack,
    integrationId,
    buildXeroPayload([{ resourceId: invoice.InvoiceID, tenantId, eventCategory: 'INVOICE', eventType: 'UPDATE' }]),
  );
  return { invoice, sent };
}

/** POSTs `body` to a generic integration's ingress at `apiUrl`, signed the Standard Webhooks way. */
export function postSignedGeneric(
  apiUrl: string,
  integration: { id: string; signingSecret: string },
  body: string,
  init: RequestInit = {},
) {
  return fetchJson(`${apiUrl}/hooks/generic/${integration.id}`, {
    ...init,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signStandardWebhook(body, integration.signingSecret) },
    body,
  });
}
