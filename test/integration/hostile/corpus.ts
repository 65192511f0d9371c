import { signStandardWebhook } from '../../emulators/webhook-sender';
import { fetchJson, type Stack } from '../../harness/stack';
import { hmac } from './payloads';
import type { HostileCase, HostileRequest, HostileTarget } from './runner';

/**
 * The hostile-input corpus: what its tables (`*.cases.ts`) are built from and how their cases
 * reach the stack. Every case comes from its own client address, as separate attackers would, so
 * the per-address limits are tested apart and each ingress case's log row is found by address.
 */

export const XERO_KEY = 'xero-webhook-key-abcdefghijklmnopqrstuvwxyz0123456789';
export const QBO_TOKEN = 'qbo-verifier-token-0123456789';
export const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
export const BODY_LIMIT = 64 * 1024;

/** Every table a refused request could write to. */
const STATE_TABLES = [
  'integrations',
  'incoming_webhooks',
  'webhooks',
  'events',
  'deliveries',
  'batch_items',
  'provider_tokens',
  'mailboxes',
  'mailbox_auth_requests',
  'tickets',
  'inbound_mail',
  'ticket_messages',
  'api_clients',
  'api_tokens',
];

/** What the corpus's requests name: the suite's integrations, mailbox, and the SSRF probe's port. */
export interface CorpusFixtures {
  generic: { id: string; signingSecret: string };
  xeroId: string;
  qboId: string;
  mailboxId: string;
  probePort: number;
}

/**
 * `ingress`: a provider's webhook route, unauthenticated, in the inbound request log, signed when
 * `sign` says so. `api`: the admin API with the suite's key. `anonymous`: the admin API, the OAuth
 * token endpoint or /metrics with no (or a made-up) credential.
 */
export type Surface = 'ingress' | 'api' | 'anonymous';

export interface CorpusCase extends HostileCase<CorpusFixtures> {
  surface: Surface;
  /** Sign the body as that provider does, with the suite's integration's secret. */
  sign?: 'generic' | 'xero' | 'quickbooks';
  /** In the inbound request log with its answer (every ingress request is, but for unknown providers). */
  logged: boolean;
}

type Unsurfaced = Omit<CorpusCase, 'surface' | 'logged'> & { logged?: boolean };
const json = { 'content-type': 'application/json' };

export const ingress = (c: Unsurfaced): CorpusCase => ({
  surface: 'ingress',
  logged: true,
  envelope: 'standard',
  ...c,
});
export const api = (c: Unsurfaced): CorpusCase => ({
  surface: 'api',
  logged: false,
  envelope: 'standard',
  headers: json,
  ...c,
});
export const anonymous = (c: Unsurfaced): CorpusCase => ({ ...api(c), surface: 'anonymous' });

const count = async (stack: Stack, table: string) =>
  Number((await stack.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);

/** The row count of every state table. */
export async function stateCounts(stack: Stack): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of STATE_TABLES) out[t] = await count(stack, t);
  return out;
}

/** Sends the corpus's cases to `stack`, each from `nextAddress()`; ingress cases must be logged once, by address. */
export function corpusTarget(
  stack: () => Stack,
  fixtures: () => CorpusFixtures,
  nextAddress: () => string,
): HostileTarget<CorpusFixtures, CorpusCase> {
  const signed = (c: CorpusCase, raw: Buffer, headers: Record<string, string>): Record<string, string> => {
    const f = fixtures();
    if (c.sign === 'generic') {
      // Standard Webhooks signs the id too: a case's own (hostile) webhook-id is signed as given.
      const id = headers['webhook-id'];
      return signStandardWebhook(raw, f.generic.signingSecret, id ? { id } : {});
    }
    if (c.sign === 'xero') return { 'x-xero-signature': hmac(XERO_KEY, raw) };
    if (c.sign === 'quickbooks') return { 'intuit-signature': hmac(QBO_TOKEN, raw) };
    return {};
  };
  const post = async (request: HostileRequest) => {
    try {
      return await fetchJson(`${stack().apiUrl}${request.path}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return 'hang' as const;
      throw err;
    }
  };
  return {
    fixtures,
    snapshot: () => stateCounts(stack()),
    send: async (c, request) => {
      const address = nextAddress();
      const headers: Record<string, string> = { 'x-forwarded-for': address, ...request.headers };
      if (c.surface === 'api') headers['authorization'] = `Bearer ${stack().apiKey}`;
      if (c.sign && request.body) Object.assign(headers, signed(c, request.body, request.headers));
      const logBefore = await count(stack(), 'inbound_requests');
      const res = await post({ ...request, headers });
      if (res === 'hang' || !c.logged) return { res };
      const logged = await stack().db.query('SELECT response_status FROM inbound_requests WHERE remote_addr = $1', [
        address,
      ]);
      const once =
        logged.rows.length === 1 &&
        logged.rows[0].response_status === res.status &&
        (await count(stack(), 'inbound_requests')) === logBefore + 1;
      return { res, problems: once ? [] : ['not in the inbound request log with its answer'] };
    },
  };
}
