import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { MicrosoftEmulator } from './index';

/** A parsed HTTPS response for self-tests. */
export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // Tests poke at arbitrary JSON shapes; `any` keeps the assertions readable.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  /** The body as received (binary downloads such as `$value`). */
  bytes: Buffer;
}

/** HTTPS request that trusts the emulator's CA (the jest process started without NODE_EXTRA_CA_CERTS). */
export function httpsJson(
  url: string,
  ca: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; form?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...init.headers };
  let payload: string | undefined;
  if (init.form) {
    payload = new URLSearchParams(init.form).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (init.body !== undefined) {
    payload = JSON.stringify(init.body);
    headers['Content-Type'] = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? 'GET', headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text), bytes });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Gets an app-only Graph token from the emulator's token endpoint. */
export async function appToken(
  emulator: MicrosoftEmulator,
  app: { tenantId: string; clientId: string; clientSecret: string },
): Promise<string> {
  const response = await httpsJson(`${emulator.url}/${app.tenantId}/oauth2/v2.0/token`, emulator.caPem, {
    method: 'POST',
    form: {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    },
  });
  if (response.status !== 200) throw new Error(`token request failed: ${response.text}`);
  return String(response.json.access_token);
}

/** Calls Graph with a bearer token and `Prefer: IdType="ImmutableId"`. */
export function graph(
  emulator: MicrosoftEmulator,
  token: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const url = path.startsWith('https://') ? path : `${emulator.graphBaseUrl}${path}`;
  return httpsJson(url, emulator.caPem, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, Prefer: 'IdType="ImmutableId"', ...init.headers },
  });
}

/** How the test receiver answers validation requests. */
export type ValidationMode = 'echo' | 'wrong-body' | 'status-500' | 'silent';

/** A subscriber endpoint: echoes validation tokens and records notifications. */
export interface Receiver {
  url: string;
  validations: string[];
  notifications: Array<{ receivedAt: number; body: { value: Array<Record<string, unknown>> } }>;
  validationMode: ValidationMode;
  /** Status for notification POSTs (default 202), optionally for the next N only. */
  respondWith(status: number, times?: number): void;
  delayMs: number;
  waitForNotifications(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a plain-HTTP receiver on 127.0.0.1 (the emulator allows http to loopback). */
export async function startReceiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const overrides: number[] = [];
  const receiver: Receiver = {
    url: '',
    validations: [],
    notifications: [],
    validationMode: 'echo',
    delayMs: 0,
    respondWith: (status, times = 1) => {
      for (let i = 0; i < times; i += 1) overrides.push(status);
    },
    waitForNotifications: async (count, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (receiver.notifications.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${receiver.notifications.length} of ${count} notifications`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  const server = http.createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://receiver.invalid').searchParams.get('validationToken');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (token !== null) {
        receiver.validations.push(token);
        if (receiver.validationMode === 'silent') return;
        if (receiver.validationMode === 'status-500') res.writeHead(500).end();
        else
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end(receiver.validationMode === 'echo' ? token : 'nope');
        return;
      }
      receiver.notifications.push({ receivedAt: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      setTimeout(() => res.writeHead(overrides.shift() ?? 202).end(), receiver.delayMs);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications`;
  return receiver;
}

/** An ISO timestamp `minutes` from now. */
export function minutesFromNow(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString();
}
