import net from 'node:net';

/**
 * Ports handed out come from below the kernel's ephemeral range (32768 and up on Linux), where
 * no outgoing connection takes a source port: a port the OS picks for `listen(0)` can be taken
 * by any client socket in a parallel test before the process it was meant for binds it. Each
 * Jest worker draws from its own block, so two workers never hand out the same port.
 */
const FIRST_PORT = 12_000;
const BLOCK_SIZE = 2_000;
const BLOCKS = 10;

// Global setup (no worker id) draws from block 0, worker N from block N.
const worker = Number(process.env['JEST_WORKER_ID'] ?? '0');
const blockStart = FIRST_PORT + (worker % BLOCKS) * BLOCK_SIZE;
// A random start within the block, so runs started one after another do not reuse a port a
// previous run's process may still hold in TIME_WAIT.
let offset = Math.floor(Math.random() * BLOCK_SIZE);

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A TCP port on 127.0.0.1 that was free a moment ago and that this worker has not handed out before. */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < BLOCK_SIZE; tried += 1) {
    const port = blockStart + (offset % BLOCK_SIZE);
    offset += 1;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${blockStart}-${blockStart + BLOCK_SIZE - 1}`);
}
