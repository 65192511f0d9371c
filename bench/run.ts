/**
 * `npm run bench -- <name> [--target dev|cluster] [--requests N] [--connections N]`; outgoing also
 * takes `--only a,a64,raw` (scenarios), `--webhook-concurrency N`, `--profile DIR`,
 * `--steady-rates 100,300` and `--steady-seconds N` (or BENCH_STEADY_SECONDS); ingest also takes
 * `--forward-rate N` and `--forward-seconds N` (or BENCH_FORWARD_SECONDS).
 */
import { benchAttachments } from './attachments';
import { benchIncoming } from './incoming';
import { benchIngest } from './ingest';
import { benchLogs } from './logs';
import { benchMail } from './mail';
import { benchOutgoing } from './outgoing';
import { benchRetention } from './retention';
import { setStackTarget } from './lib';

const args = process.argv.slice(2);
const name = args[0];
const text = (key: string, fallback: string) => {
  const i = args.indexOf(`--${key}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const flag = (key: string, fallback: number) => Number(text(key, String(fallback)));
/** A duration: the option, else the environment variable, else the default. */
const seconds = (key: string, env: string, fallback: number) => flag(key, Number(process.env[env] ?? fallback));

const benches: Record<string, () => Promise<void>> = {
  logs: () => benchLogs({ rows: flag('rows', 100_000), samples: flag('samples', 20) }),
  outgoing: () =>
    benchOutgoing({
      events: flag('events', 1000),
      concurrency: flag('connections', 20),
      fanoutEvents: flag('fanout-events', 200),
      fanoutWebhooks: flag('fanout-webhooks', 20),
      steadyRate: flag('rate', 20),
      steadySeconds: flag('seconds', 60),
      steadyRates: text('steady-rates', '100,300').split(',').filter(Boolean).map(Number),
      steadyLoadSeconds: seconds('steady-seconds', 'BENCH_STEADY_SECONDS', 60),
      slowMs: flag('slow', 5000),
      batchWait: flag('wait', 2),
      batchMax: flag('max', 100),
      bursts: flag('bursts', 10),
      burstConcurrency: flag('webhook-concurrency', 64),
      only: text('only', '').split(',').filter(Boolean),
      profileDir: text('profile', ''),
    }),
  ingest: () =>
    benchIngest({
      requests: flag('requests', 5000),
      rounds: flag('rounds', 3),
      connections: flag('connections', 20),
      rate: flag('rate', 0),
      seconds: flag('seconds', 60),
      forwardRate: flag('forward-rate', 500),
      forwardSeconds: seconds('forward-seconds', 'BENCH_FORWARD_SECONDS', 10),
    }),
  retention: () =>
    benchRetention({
      rows: flag('rows', 200_000),
      requests: flag('requests', 2000),
      connections: flag('connections', 10),
      batchSize: flag('batch', 1000),
      pauseMs: flag('pause', 100),
    }),
  mail: () =>
    benchMail({
      emails: flag('emails', 1000),
      latencyMs: flag('latency', 5),
      poolSize: flag('pool', 40),
      bursts: flag('bursts', 3),
    }),
  attachments: () => benchAttachments({ mib: flag('mib', 40), sampleMs: flag('sample', 50) }),
  incoming: () =>
    benchIncoming({
      webhooks: flag('webhooks', 5000),
      bursts: flag('bursts', 3),
      immediate: flag('immediate', 120),
      connections: flag('connections', 20),
      latencyMs: flag('latency', 100),
    }),
};

const targetAt = args.indexOf('--target');
if (targetAt >= 0) setStackTarget(args[targetAt + 1] ?? '');

const run = name ? benches[name] : undefined;
if (!run) {
  process.stderr.write(
    `usage: npm run bench -- <${Object.keys(benches).join('|')}> [--target dev|cluster] [options]\n`,
  );
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
