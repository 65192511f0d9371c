import type { ApiResponse } from '../../harness/stack';

/**
 * The one shape of a hostile case, shared by every hostile suite: a request an attacker or a
 * broken provider sends, the refusal the product must give, and (through the target) what must be
 * left as it was. A table of cases is data; `runHostileCase` sends one against a running stack.
 */

/** A value given as is, or built from the suite's fixtures (ids, ports, secrets known only once they exist). */
export type Built<F, V> = V | ((f: F) => V);

/** The refusal's shape: Switchyard's envelope, none at all (Xero's bare 401) or OAuth's (RFC 6749). */
export type Envelope = 'standard' | 'none' | 'oauth';

export interface HostileCase<F> {
  name: string;
  /** GET without a body, POST with one, when omitted. */
  method?: string;
  path: Built<F, string>;
  headers?: Built<F, Record<string, string>>;
  body?: Built<F, string | Buffer>;
  status: number;
  /** The envelope's `error.code`, when the case names one. */
  code?: string;
  /** Checked only when given: some surfaces answer in their protocol's own shape. */
  envelope?: Envelope;
  /** Anything else the answer must show (a header, a page text); throws when it does not. */
  check?: (res: ApiResponse, f: F) => void | Promise<void>;
}

/** A case's request with its fixtures filled in. */
export interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Where a table's cases are sent, and what no refusal there may change. */
export interface HostileTarget<F, C extends HostileCase<F>> {
  fixtures: () => F;
  /** What must be the same after each case, by name (row counts, fingerprints). */
  snapshot: () => Promise<Record<string, unknown>>;
  /**
   * Sends the request the way the case's surface is reached (credentials, signatures, client
   * address); `'hang'` when no answer came in time. `problems` are the surface's own findings.
   */
  send: (c: C, request: HostileRequest) => Promise<{ res: ApiResponse | 'hang'; problems?: string[] }>;
}

const build = <F, V>(value: Built<F, V>, f: F): V => (typeof value === 'function' ? (value as (f: F) => V)(f) : value);

export function requestOf<F>(c: HostileCase<F>, f: F): HostileRequest {
  const body = c.body === undefined ? undefined : build(c.body, f);
  return {
    method: c.method ?? (body === undefined ? 'GET' : 'POST'),
    path: build(c.path, f),
    headers: c.headers === undefined ? {} : build(c.headers, f),
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body),
  };
}

/** Whether `res` is a refusal in the `envelope` shape. */
export function inEnvelope(res: ApiResponse, envelope: Envelope): boolean {
  const body = res.body as Record<string, unknown> | undefined;
  if (envelope === 'none') return res.text === '';
  if (envelope === 'oauth') return typeof body?.['error'] === 'string' && typeof body['error_description'] === 'string';
  const error = body?.['error'] as { code?: unknown; message?: unknown } | undefined;
  return (
    !!body && Object.keys(body).length === 1 && typeof error?.code === 'string' && typeof error.message === 'string'
  );
}

/**
 * Sends one case and lists what is wrong: the status, the code, the envelope, the case's own
 * check, the surface's findings, and anything the snapshot shows changed. An empty list is a pass;
 * a list (rather than a first failed `expect`) lets a suite count every kind of failure.
 */
export async function runHostileCase<F, C extends HostileCase<F>>(
  c: C,
  target: HostileTarget<F, C>,
): Promise<{ res: ApiResponse | 'hang'; problems: string[] }> {
  const f = target.fixtures();
  const before = await target.snapshot();
  const { res, problems = [] } = await target.send(c, requestOf(c, f));
  if (res === 'hang') return { res, problems: [...problems, 'no answer'] };
  const excerpt = res.text.slice(0, 200);
  if (res.status !== c.status) problems.push(`status ${res.status}, not ${c.status}: ${excerpt}`);
  if (c.code !== undefined && res.body?.error?.code !== c.code) {
    problems.push(`code ${String(res.body?.error?.code)}, not ${c.code}: ${excerpt}`);
  }
  if (c.envelope && !inEnvelope(res, c.envelope)) problems.push(`not the ${c.envelope} error envelope: ${excerpt}`);
  await c.check?.(res, f);
  const after = await target.snapshot();
  const changed = Object.keys(before).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
  if (changed.length) problems.push(`changed ${changed.join(', ')}`);
  return { res, problems };
}
