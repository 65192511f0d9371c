import fs from 'node:fs';
import { BENCH_MAILBOX, connectEmulatedMailbox, emulatorEnv } from './emulated-mailbox';
import { fmt, startEmbeddedStack, type EmbeddedStack } from './lib';
import { forkMicrosoftEmulator } from './microsoft-emulator-process';

const MIB = 1024 * 1024;

/** VmRSS and VmHWM (the peak RSS since the process started) of a process, in MiB. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** Samples a process's RSS every `everyMs` until stopped: the highest value seen. */
function sampler(pid: number, everyMs: number) {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StoredAttachment {
  name: string;
  stored: boolean;
  size: number;
}

/** Waits for the email's ticket, then for its one attachment to be recorded (stored or noted). */
async function attachmentOf(stack: EmbeddedStack, mailboxId: string, timeoutMs: number): Promise<StoredAttachment> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const page = (await stack.call('GET', `/api/v1/inbound-mail?mailboxId=${mailboxId}&limit=10`)) as {
      data: Array<{ ticketId: string | null }>;
    };
    const ticketId = page.data.find((e) => e.ticketId)?.ticketId;
    if (ticketId) {
      const ticket = (await stack.call('GET', `/api/v1/tickets/${ticketId}`)) as { attachments: StoredAttachment[] };
      if (ticket.attachments[0]) return ticket.attachments[0];
    }
    await sleep(200);
  }
  throw new Error(`no attachment recorded within ${timeoutMs / 1000} s`);
}

/**
 * One email with one large attachment (`mib` MiB of random bytes, so nothing compresses) to a
 * webhooks mailbox on the embedded stack, the Microsoft emulator in its own process. Samples the
 * worker process's RSS before (idle, after the mailbox is connected), during and after the
 * attachment is fetched from Graph's `$value` and stored in PostgreSQL; VmHWM catches a peak
 * between two samples.
 */
export async function benchAttachments(options: { mib: number; sampleMs: number }): Promise<void> {
  const emulator = await forkMicrosoftEmulator({ notificationDelayMs: 20 });
  const limit = String(Math.ceil(options.mib * 1.25) * MIB);
  const stack = await startEmbeddedStack({
    ...emulatorEnv(emulator),
    MAIL_ATTACHMENT_MAX_BYTES: limit,
    MAIL_ATTACHMENTS_MAX_BYTES_PER_EMAIL: limit,
    OUTBOUND_TIMEOUT_MS: '120000',
  });
  try {
    const mailboxId = await connectEmulatedMailbox(emulator, stack.call);
    const pid = stack.workerPid();
    if (!pid) throw new Error('the worker process id is not known');
    // Let the start-up settle (JIT, pools) before the idle figure is taken.
    await sleep(5000);
    const before = memoryOf(pid);
    const during = sampler(pid, options.sampleMs);
    const started = performance.now();
    await emulator.deliverWithAttachment(
      BENCH_MAILBOX,
      { from: 'customer@bench.test', subject: 'A large scan', body: 'see attached' },
      { name: 'scan.bin', bytes: Math.round(options.mib * MIB), contentType: 'application/octet-stream' },
    );
    const attachment = await attachmentOf(stack, mailboxId, 300_000);
    const seconds = (performance.now() - started) / 1000;
    await sleep(2000);
    const peakSampled = during.stop();
    const end = memoryOf(pid);
    await sleep(5000);
    const after = memoryOf(pid);

    const peak = Math.max(peakSampled, end.hwm);
    process.stdout.write(
      [
        `attachments benchmark: one ${options.mib} MiB attachment through Graph $value into PostgreSQL, worker process ${pid}`,
        `  stored: ${attachment.stored} (${fmt(attachment.size / MIB)} MiB) after ${fmt(seconds)} s`,
        `  worker RSS idle before:      ${fmt(before.rss)} MiB (peak since start ${fmt(before.hwm)} MiB)`,
        `  worker RSS peak while fetching and storing: ${fmt(peak)} MiB (sampled ${fmt(peakSampled)}, VmHWM ${fmt(end.hwm)})`,
        `  worker RSS 7 s after:        ${fmt(after.rss)} MiB`,
        `  growth over idle:            ${fmt(peak - before.rss)} MiB`,
      ].join('\n') + '\n',
    );
    const round = (n: number) => Number(n.toFixed(1));
    const json = {
      attachment_mib: options.mib,
      stored: attachment.stored,
      seconds_to_stored: round(seconds),
      worker_rss_baseline_mib: round(before.rss),
      worker_hwm_before_mib: round(before.hwm),
      worker_rss_peak_mib: round(peak),
      worker_rss_peak_sampled_mib: round(peakSampled),
      worker_rss_growth_mib: round(peak - before.rss),
      worker_rss_after_mib: round(after.rss),
      sample_ms: options.sampleMs,
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await stack.stop();
    await emulator.stop();
  }
}
