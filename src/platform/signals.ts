import type { Logger } from './logger';

/**
 * Signals this close after the first are the same Ctrl-C: under `npm start` the terminal sends
 * SIGINT to the whole process group and npm forwards its own, so one keypress arrives twice
 * within milliseconds. A person pressing Ctrl-C again is slower than this.
 */
export const SAME_SIGNAL_WINDOW_MS = 1000;

/**
 * Runs `stop` on the first SIGINT/SIGTERM. A repeat within `SAME_SIGNAL_WINDOW_MS` is the same
 * request and ignored; a later one (someone pressed Ctrl-C again while draining) exits at once.
 */
export function onShutdownSignal(logger: Logger, stop: () => Promise<void>): void {
  let firstAt: number | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (firstAt !== undefined) {
      const sinceMs = Date.now() - firstAt;
      if (sinceMs < SAME_SIGNAL_WINDOW_MS) {
        logger.debug({ signal, sinceMs }, 'repeated signal within the same stop; still draining');
        return;
      }
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    firstAt = Date.now();
    logger.info({ signal }, 'shutting down (press Ctrl-C again to exit at once)');
    stop().catch((err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
