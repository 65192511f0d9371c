/**
 * The Microsoft emulator in a process of its own, driven over Node's IPC channel.
 *
 * Graph is another company's data centre: it does not share an event loop with the client that
 * measures it, nor with the bench that polls the API. In one process, the emulator's notification
 * timings included the time its own loop spent serving the worker's Graph calls and the bench's
 * bookkeeping, so the "ack latency" partly measured the emulator. Here the emulator has its own
 * loop (still on the same cores) and the bench only reads its log at the end.
 *
 * It runs as a child (`forkMicrosoftEmulator` below) with the emulator's options as JSON in argv[2],
 * in a session of its own: the product under test (the launcher) shares the bench's session, and
 * with autogroup scheduling Graph's CPU would otherwise be counted against the API's share.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startMicrosoftEmulator } from '../test/emulators/microsoft';
import type {
  DeliverMessageInput,
  EmulatorStats,
  MicrosoftEmulatorOptions,
  NotificationAttempt,
  RegisterAppInput,
} from '../test/emulators/microsoft';
import type { AddUserInput } from '../test/emulators/microsoft';

/** What the bench can ask of the emulator in the child, one message per call. */
type Request =
  | { op: 'registerApp'; input: RegisterAppInput }
  | { op: 'addUser'; tenantId: string; user: AddUserInput }
  | { op: 'deliverMessages'; mailbox: string; messages: DeliverMessageInput[] }
  | { op: 'deliverWithAttachment'; mailbox: string; message: DeliverMessageInput; attachment: GeneratedAttachment }
  | { op: 'resetStats' }
  | { op: 'stats' }
  | { op: 'notificationsIdle' }
  | { op: 'notificationLog' }
  | { op: 'stop' };

/** An attachment of `bytes` pseudo-random bytes, made in the child: megabytes do not cross the IPC channel. */
export interface GeneratedAttachment {
  name: string;
  bytes: number;
  contentType?: string;
}

type Envelope = { id: number; request: Request };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
type Ready = { ready: { url: string; caPath: string } };

/** The parent's handle on the emulator child: the calls the mail bench makes, as promises. */
export interface EmulatorProcess {
  url: string;
  caPath: string;
  registerApp(input: RegisterAppInput): Promise<{ tenantId: string; clientId: string; clientSecret: string }>;
  addUser(tenantId: string, user: AddUserInput): Promise<void>;
  /** Delivers all of them in one turn of the child's loop, as a burst of mail would arrive. */
  deliverMessages(mailbox: string, messages: DeliverMessageInput[]): Promise<void>;
  deliverWithAttachment(mailbox: string, message: DeliverMessageInput, attachment: GeneratedAttachment): Promise<void>;
  resetStats(): Promise<void>;
  stats(): Promise<EmulatorStats>;
  notificationsIdle(): Promise<void>;
  notificationLog(): Promise<NotificationAttempt[]>;
  stop(): Promise<void>;
}

export async function forkMicrosoftEmulator(options: MicrosoftEmulatorOptions): Promise<EmulatorProcess> {
  const child: ChildProcess = fork(__filename, [JSON.stringify(options)], {
    // --expose-gc: see deliverMessages below.
    execArgv: ['--expose-gc', '--import', 'tsx'],
    cwd: path.resolve(__dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true, // its own session (above); the IPC channel still ends it with the bench
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<Ready['ready']>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Microsoft emulator process exited (${code}) before it was ready`)));
    child.on('message', (message: Ready | Reply) => {
      if ('ready' in message) return resolve(message.ready);
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error));
    });
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`Microsoft emulator process exited (${code})`));
    pending.clear();
  });
  const ask = <T>(request: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, request } satisfies Envelope);
    });
  return {
    ...ready,
    registerApp: (input) => ask({ op: 'registerApp', input }),
    addUser: (tenantId, user) => ask({ op: 'addUser', tenantId, user }),
    deliverMessages: (mailbox, messages) => ask({ op: 'deliverMessages', mailbox, messages }),
    deliverWithAttachment: (mailbox, message, attachment) =>
      ask({ op: 'deliverWithAttachment', mailbox, message, attachment }),
    resetStats: () => ask({ op: 'resetStats' }),
    stats: () => ask({ op: 'stats' }),
    notificationsIdle: () => ask({ op: 'notificationsIdle' }),
    notificationLog: () => ask({ op: 'notificationLog' }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await ask({ op: 'stop' }).catch(() => undefined);
      await exited;
    },
  };
}

async function serveInChild(): Promise<void> {
  const emulator = await startMicrosoftEmulator(JSON.parse(process.argv[2] ?? '{}') as MicrosoftEmulatorOptions);
  const handle = async (request: Request): Promise<unknown> => {
    switch (request.op) {
      case 'registerApp':
        return emulator.registerApp(request.input);
      case 'addUser':
        emulator.addUser(request.tenantId, request.user);
        return undefined;
      case 'deliverMessages':
        for (const message of request.messages) emulator.deliverMessage(request.mailbox, message);
        // Creating a burst of mail leaves this heap full of young objects; collected later, the
        // pause (40 ms for 1,000 emails) fell on the first notifications' answers and was
        // counted as their ack latency. Collected now, before the batching delay ends and the
        // first POST is timed.
        (globalThis as { gc?: () => void }).gc?.();
        return undefined;
      case 'deliverWithAttachment': {
        const { name, bytes, contentType } = request.attachment;
        const content = randomBytes(bytes);
        emulator.deliverMessage(request.mailbox, {
          ...request.message,
          attachments: [{ name, content, ...(contentType ? { contentType } : {}) }],
        });
        return undefined;
      }
      case 'resetStats':
        return emulator.resetStats();
      case 'stats':
        return emulator.stats();
      case 'notificationsIdle':
        return emulator.notificationsIdle();
      case 'notificationLog':
        return emulator.notificationLog();
      case 'stop':
        await emulator.stop();
        return undefined;
    }
  };
  process.on('message', (message: Envelope) => {
    handle(message.request).then(
      (value) => {
        process.send!({ id: message.id, ok: true, value } satisfies Reply);
        if (message.request.op === 'stop') process.disconnect();
      },
      (error: unknown) => process.send!({ id: message.id, ok: false, error: String(error) } satisfies Reply),
    );
  });
  // The parent going away (a crashed bench) takes the emulator with it.
  process.on('disconnect', () => void emulator.stop().finally(() => process.exit(0)));
  process.send!({ ready: { url: emulator.url, caPath: emulator.caPath } } satisfies Ready);
}

if (require.main === module) void serveInChild();
