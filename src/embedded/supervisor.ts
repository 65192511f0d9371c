import type { Logger } from '../platform/logger';
import { removePidFile, writePidFile, type PidRecord } from './pid-files';

/** A running child: its pid record, a promise that settles with a description when it exits, and a clean stop. */
export interface ChildHandle {
  record: Omit<PidRecord, 'name'>;
  exited: Promise<string>;
  stop(): Promise<void>;
}

import type { PartState } from '../platform/context';

export type { PartState };

export interface SupervisorOptions {
  dataDir: string;
  logger: Logger;
  /** Restarts allowed within `windowMs` before giving up. */
  maxRestarts: number;
  windowMs: number;
  /** Called once when a part keeps failing; the launcher stops everything and exits non-zero. */
  onGiveUp: (part: string, reason: string) => void;
}

interface Part {
  name: string;
  label: string;
  start: () => Promise<ChildHandle>;
  handle: ChildHandle | undefined;
  state: PartState;
  restarts: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps the launcher's children (Temporal dev server, embedded PostgreSQL, worker) running: a child
 * that dies is restarted with backoff and a log line; one that keeps dying ends the launcher.
 */
export class Supervisor {
  private readonly parts: Part[] = [];
  private stopping = false;
  private gaveUp = false;

  constructor(private readonly o: SupervisorOptions) {}

  /** Starts a part for the first time (a failure here is the caller's to report) and watches it. */
  async add(name: string, label: string, start: () => Promise<ChildHandle>): Promise<void> {
    const part: Part = { name, label, start, handle: undefined, state: 'restarting', restarts: [] };
    this.parts.push(part);
    part.handle = await start();
    this.record(part);
    part.state = 'up';
    this.watch(part, part.handle);
  }

  /** `{ postgres: 'up', temporal: 'restarting' }` for /healthz and /readyz. */
  states(): Record<string, PartState> {
    return Object.fromEntries(this.parts.map((p) => [p.name, p.state]));
  }

  /** Stops every part, last started first; exits from here on are expected. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const part of [...this.parts].reverse()) {
      const handle = part.handle;
      part.handle = undefined;
      part.state = 'stopped';
      if (handle)
        await handle.stop().catch((err: unknown) => this.o.logger.warn({ err, part: part.name }, 'stop failed'));
      removePidFile(this.o.dataDir, part.name);
    }
  }

  private record(part: Part): void {
    if (part.handle) writePidFile(this.o.dataDir, { name: part.name, ...part.handle.record });
  }

  private watch(part: Part, handle: ChildHandle): void {
    void handle.exited.then((how) => {
      if (this.stopping || part.handle !== handle) return;
      part.handle = undefined;
      part.state = 'restarting';
      this.o.logger.warn({ part: part.name, exit: how }, `${part.label} exited unexpectedly (${how}); restarting`);
      void this.restart(part);
    });
  }

  private async restart(part: Part): Promise<void> {
    for (;;) {
      const now = Date.now();
      part.restarts = part.restarts.filter((t) => now - t < this.o.windowMs);
      part.restarts.push(now);
      if (part.restarts.length > this.o.maxRestarts) {
        return this.giveUp(
          part,
          `${part.label} failed ${part.restarts.length} times in ${Math.round(this.o.windowMs / 1000)} s`,
        );
      }
      const delay = Math.min(500 * 2 ** (part.restarts.length - 1), 8000);
      this.o.logger.info(
        { part: part.name, attempt: part.restarts.length, delayMs: delay },
        `restarting ${part.label} in ${delay} ms (restart ${part.restarts.length} of at most ${this.o.maxRestarts})`,
      );
      await sleep(delay);
      if (this.stopping) return;
      try {
        const handle = await part.start();
        if (this.stopping) {
          await handle.stop();
          return;
        }
        part.handle = handle;
        this.record(part);
        part.state = 'up';
        this.o.logger.info({ part: part.name }, `${part.label} restarted`);
        this.watch(part, handle);
        return;
      } catch (err) {
        this.o.logger.warn(
          { part: part.name, err: err instanceof Error ? err.message : String(err) },
          `${part.label} did not restart`,
        );
      }
    }
  }

  private giveUp(part: Part, reason: string): void {
    part.state = 'stopped';
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.o.logger.error({ part: part.name }, `${reason}; stopping everything`);
    this.o.onGiveUp(part.name, reason);
  }
}
