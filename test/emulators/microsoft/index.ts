/**
 * Local Microsoft identity platform + Microsoft Graph (mail, subscriptions) over HTTPS with its own CA.
 *
 * Child processes must trust the CA before they start: `NODE_EXTRA_CA_CERTS=<emulator.caPath>` (see
 * `ensureEmulatorCa` to create it ahead of time). The product's unmodified clients then need only configuration:
 *
 *   new ConfidentialClientApplication({ auth: { clientId, clientSecret, ...emulator.msalAuthority(tenantId) } })
 *     // = authority `${url}/${tenantId}`, knownAuthorities [`localhost:${port}`], authorityMetadata JSON
 *   Client.initWithMiddleware({ authProvider, baseUrl: emulator.url, customHosts: new Set(['localhost']) })
 */
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import express from 'express';
import { ensureEmulatorCa } from './ca';
import { Directory } from './directory';
import type { AddUserInput, DirectoryUser, RegisterAppInput } from './directory';
import { GrantStore } from './grants';
import { DeltaSessions } from './graph-delta';
import type { SentMailRecord } from './graph-context';
import { createGraphRouter } from './graph';
import { OutboundClient } from './http-client';
import { authorityMetadataFor, createIdentityRouter } from './identity';
import type { AuthorizeBehaviour } from './identity';
import { MailStore } from './mail-store';
import type { DeliverMessageInput, StoredMessage } from './mail-store';
import { Notifier } from './notifier';
import type { LifecycleNotification, NotificationAttempt } from './notifier';
import { Counters } from './stats';
import type { EmulatorStats } from './stats';
import { SubscriptionStore } from './subscriptions';
import type { Subscription } from './subscriptions';
import { FaultInjector, MailboxThrottle } from './throttle';
import type { FailNextOptions } from './throttle';
import { TokenService } from './tokens';

export { authorityMetadataFor } from './identity';
export { DEFAULT_CERT_DIR, ensureEmulatorCa } from './ca';
export type { AuthorizeBehaviour, ConsentOutcome } from './identity';
export type { AddUserInput, DirectoryUser, RegisterAppInput } from './directory';
export type { DeliverMessageInput, StoredMessage } from './mail-store';
export type { NotificationAttempt } from './notifier';
export type { SentMailRecord } from './graph-context';
export type { EmulatorStats } from './stats';
export type { FailNextOptions } from './throttle';
export type { Subscription } from './subscriptions';

export interface MicrosoftEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Where the CA and server certificate live; reused across runs. Defaults to a folder in the OS temp dir. */
  certDir?: string;
  accessTokenTtlSeconds?: number;
  /** Ceiling on subscription lifetime; live tenants enforce 10070 minutes for messages. Fractions allowed. */
  subscriptionMaxMinutes?: number;
  throttle?: { perTenMinutes?: number; concurrentPerMailbox?: number; windowMs?: number };
  /** How long a notification waits for others to share its POST (Graph batches). */
  notificationDelayMs?: number;
  sendNotifications?: boolean;
  maxNotificationBatch?: number;
  notificationTimeoutMs?: number;
  /** Attempts per notification POST and the first back-off, doubled per retry. */
  notificationRetry?: { attempts?: number; baseDelayMs?: number };
  validationTimeoutMs?: number;
  /** Artificial service time per mailbox request, so concurrency limits bite under load. */
  graphLatencyMs?: number;
  /** Refuse a refresh token once exchanged (Entra ID tolerates reuse; this is the stricter rotation). */
  rejectRefreshTokenReuse?: boolean;
}

/** A running emulator: its URL, CA, test controls and inspection helpers. */
export interface MicrosoftEmulator {
  url: string;
  port: number;
  caPath: string;
  caPem: string;
  /** `${url}/v1.0`, the Graph root. */
  graphBaseUrl: string;
  /** MSAL `auth` settings that point a client at this emulator for `tenantId`. */
  msalAuthority(tenantId: string): { authority: string; knownAuthorities: string[]; authorityMetadata: string };
  /** `Client.initWithMiddleware` settings (add your `authProvider`). */
  graphClientOptions(): { baseUrl: string; customHosts: Set<string> };
  registerApp(input: RegisterAppInput): { tenantId: string; clientId: string; clientSecret: string };
  rotateSecret(clientId: string, options?: { keepOld?: boolean }): string;
  revokeSecret(clientId: string): void;
  expireSecret(clientId: string): void;
  expireAllTokens(): void;
  revokeRefreshTokens(userId?: string): void;
  addUser(tenantId: string, user: AddUserInput): DirectoryUser;
  setAuthorizeBehaviour(behaviour: AuthorizeBehaviour): void;
  deliverMessage(mailbox: string, input: DeliverMessageInput): StoredMessage;
  messages(mailbox: string, folder?: string): StoredMessage[];
  subscriptions(): Subscription[];
  sentMail(): SentMailRecord[];
  notificationLog(): NotificationAttempt[];
  /** Resolves when every queued notification has been delivered or given up on. */
  notificationsIdle(): Promise<void>;
  dropNotifications(drop: boolean): void;
  duplicateNextNotification(): void;
  sendLifecycle(subscriptionId: string, event: LifecycleNotification['lifecycleEvent']): Promise<void>;
  removeSubscription(subscriptionId: string): boolean;
  invalidateDeltaTokens(): void;
  failNext(count: number, status: number, options?: FailNextOptions): void;
  stats(): EmulatorStats;
  resetStats(): void;
  stop(): Promise<void>;
}

/** Starts the Microsoft identity platform + Graph emulator over HTTPS with its own CA. */
export async function startMicrosoftEmulator(options: MicrosoftEmulatorOptions = {}): Promise<MicrosoftEmulator> {
  const ca = await ensureEmulatorCa(options.certDir);
  let baseUrl = '';
  const counters = new Counters();
  const directory = new Directory();
  const tokens = new TokenService(() => baseUrl, options.accessTokenTtlSeconds ?? 3599);
  const grants = new GrantStore();
  const faults = new FaultInjector();
  const store = new MailStore();
  const subscriptions = new SubscriptionStore();
  const delta = new DeltaSessions();
  const sentMail: SentMailRecord[] = [];
  const outbound = new OutboundClient(ca.caPem);
  const notifier = new Notifier(
    outbound,
    {
      delayMs: options.notificationDelayMs ?? 50,
      maxBatch: options.maxNotificationBatch ?? 50,
      concurrencyPerUrl: 4,
      timeoutMs: options.notificationTimeoutMs ?? 10_000,
      validationTimeoutMs: options.validationTimeoutMs ?? 10_000,
      attempts: options.notificationRetry?.attempts ?? 4,
      retryBaseDelayMs: options.notificationRetry?.baseDelayMs ?? 250,
    },
    counters,
  );
  const sendNotifications = options.sendNotifications ?? true;
  store.onChange((change) => {
    if (!sendNotifications) return;
    for (const { url, item } of subscriptions.notificationsFor(change)) notifier.enqueue(url, item);
  });
  let authorizeBehaviour: AuthorizeBehaviour = { outcome: 'approve' };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    '/v1.0',
    createGraphRouter({
      baseUrl: () => baseUrl,
      directory,
      store,
      subscriptions,
      delta,
      notifier,
      tokens,
      throttle: new MailboxThrottle({
        perTenMinutes: options.throttle?.perTenMinutes ?? 10_000,
        concurrentPerMailbox: options.throttle?.concurrentPerMailbox ?? 4,
        windowMs: options.throttle?.windowMs ?? 10 * 60_000,
      }),
      faults,
      counters,
      sentMail,
      subscriptionMaxMinutes: options.subscriptionMaxMinutes ?? 10070,
      graphLatencyMs: options.graphLatencyMs ?? 0,
    }),
  );
  app.use(
    createIdentityRouter({
      baseUrl: () => baseUrl,
      directory,
      tokens,
      grants,
      faults,
      counters,
      rejectRefreshTokenReuse: options.rejectRefreshTokenReuse ?? false,
      authorizeBehaviour: () => authorizeBehaviour,
    }),
  );
  app.use((req, res) => {
    res.status(404).json({ error: { code: 'NotFound', message: `No emulator route for ${req.method} ${req.path}` } });
  });

  const sockets = new Set<Socket>();
  const servers = await listen(app, ca, options.port ?? 0, sockets);
  const port = (servers[0]?.address() as AddressInfo).port;
  baseUrl = `https://localhost:${port}`;

  const mailboxOf = (mailbox: string): DirectoryUser => {
    const user = directory.findUser(mailbox);
    if (!user) throw new Error(`no user ${mailbox} in the emulator; call addUser first`);
    return user;
  };

  return {
    url: baseUrl,
    port,
    caPath: ca.caPath,
    caPem: ca.caPem,
    graphBaseUrl: `${baseUrl}/v1.0`,
    msalAuthority: (tenantId) => ({
      authority: `${baseUrl}/${tenantId}`,
      knownAuthorities: [`localhost:${port}`],
      authorityMetadata: authorityMetadataFor(baseUrl, tenantId),
    }),
    graphClientOptions: () => ({ baseUrl, customHosts: new Set(['localhost']) }),
    registerApp: (input) => {
      const registered = directory.registerApp(input);
      return { tenantId: registered.tenantId, clientId: registered.clientId, clientSecret: registered.clientSecret };
    },
    rotateSecret: (clientId, rotation) => directory.rotateSecret(clientId, rotation?.keepOld ?? false),
    revokeSecret: (clientId) => directory.revokeSecrets(clientId),
    expireSecret: (clientId) => directory.expireSecrets(clientId),
    expireAllTokens: () => tokens.expireAll(),
    revokeRefreshTokens: (userId) => grants.revokeRefreshTokens(userId),
    addUser: (tenantId, user) => directory.addUser(tenantId, user),
    setAuthorizeBehaviour: (behaviour) => {
      authorizeBehaviour = behaviour;
    },
    deliverMessage: (mailbox, input) => structuredClone(store.deliver(mailboxOf(mailbox), input)),
    messages: (mailbox, folder) => {
      const box = store.mailbox(mailboxOf(mailbox));
      const folderId = folder === undefined ? undefined : store.folder(box, folder)?.id;
      if (folder !== undefined && folderId === undefined) throw new Error(`unknown folder ${folder}`);
      return store.list(box, folderId).map((message) => structuredClone(message));
    },
    subscriptions: () => subscriptions.active().map((subscription) => structuredClone(subscription)),
    sentMail: () => structuredClone(sentMail),
    notificationLog: () => notifier.log(),
    notificationsIdle: () => notifier.idle(),
    dropNotifications: (drop) => {
      notifier.dropping = drop;
    },
    duplicateNextNotification: () => {
      notifier.duplicateNext = true;
    },
    sendLifecycle: async (subscriptionId, event) => {
      const subscription = subscriptions.get(subscriptionId);
      if (!subscription) throw new Error(`no active subscription ${subscriptionId}`);
      if (event === 'reauthorizationRequired') subscription.reauthorizationRequired = true;
      // Graph drops the subscription first, then tells the app it is gone.
      if (event === 'subscriptionRemoved') subscriptions.delete(subscriptionId);
      if (!subscription.lifecycleNotificationUrl) return;
      await notifier.sendLifecycle(subscription.lifecycleNotificationUrl, {
        subscriptionId,
        subscriptionExpirationDateTime: subscription.expirationDateTime.toISOString(),
        lifecycleEvent: event,
        clientState: subscription.clientState,
        tenantId: subscription.tenantId,
        organizationId: subscription.tenantId,
      });
    },
    removeSubscription: (subscriptionId) => subscriptions.delete(subscriptionId),
    invalidateDeltaTokens: () => delta.invalidateAll(),
    failNext: (count, status, failOptions) => faults.add(count, status, failOptions),
    stats: () => counters.snapshot(),
    resetStats: () => counters.reset(),
    stop: async () => {
      notifier.stop();
      outbound.destroy();
      const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
  };
}

/**
 * Listens on 127.0.0.1 and, on the same port, ::1: `localhost` resolves to either depending on the machine,
 * and clients must reach the emulator whichever they try first.
 */
async function listen(
  app: express.Express,
  ca: { certPem: string; keyPem: string },
  port: number,
  sockets: Set<Socket>,
): Promise<https.Server[]> {
  for (let attempt = 1; ; attempt += 1) {
    const primary = createServer(app, ca, sockets);
    await bind(primary, '127.0.0.1', port);
    const chosen = (primary.address() as AddressInfo).port;
    const secondary = createServer(app, ca, sockets);
    try {
      await bind(secondary, '::1', chosen);
      return [primary, secondary];
    } catch (error) {
      // Someone else holds this port on ::1: clients preferring IPv6 would reach them, not us. Pick another port.
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && port === 0 && attempt < 5) {
        await new Promise<void>((resolve) => primary.close(() => resolve()));
        continue;
      }
      // No IPv6 loopback on this machine: IPv4 alone will do.
      return [primary];
    }
  }
}

function createServer(app: express.Express, ca: { certPem: string; keyPem: string }, sockets: Set<Socket>) {
  const server = https.createServer({ cert: ca.certPem, key: ca.keyPem }, app);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return server;
}

function bind(server: https.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
