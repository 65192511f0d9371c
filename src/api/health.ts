import express, { type Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../platform/db/pool';
import { intakeBacklog } from '../platform/intake/jobs';
import type { PartStates } from '../platform/context';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  ]);

export type { PartStates };

/**
 * `/healthz`: 200 `ok` when the process and every supervised part are up, 503 `degraded` naming
 * the parts that are down (being restarted). `/readyz`: Temporal and PostgreSQL answer; `down`
 * names the part that does not.
 */
export function healthRouter({
  db,
  temporal,
  parts,
}: {
  db: Db;
  temporal: Client;
  parts?: PartStates | undefined;
}): Router {
  const router = express.Router();
  const partsDown = () => Object.entries(parts?.() ?? {}).filter(([, s]) => s !== 'up');
  router.get('/healthz', (_req, res) => {
    const down = partsDown();
    if (down.length === 0) return void res.json({ status: 'ok', ...(parts ? { parts: parts() } : {}) });
    res.status(503).json({
      status: 'degraded',
      message: `the process is up, but ${down.map(([n, s]) => `${n} is ${s}`).join(' and ')}`,
      down: down.map(([n]) => n),
      parts: parts!(),
    });
  });
  router.get('/readyz', async (_req, res) => {
    const check = async (fn: () => Promise<unknown>) => {
      try {
        await withTimeout(fn(), 2000);
        return { ok: true };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    };
    const [postgres, temporalCheck] = await Promise.all([
      check(() => db.query('SELECT 1')),
      check(() => temporal.workflowService.getSystemInfo({})),
    ]);
    const checks = { postgres, temporal: temporalCheck };
    // Ingress keeps answering while Temporal is down; the backlog says how much is waiting for it.
    const intake = postgres.ok ? await intakeBacklog(db).catch(() => null) : null;
    const down = new Set(
      Object.entries(checks)
        .filter(([, c]) => !c.ok)
        .map(([n]) => n),
    );
    for (const [n] of partsDown()) down.add(n);
    if (down.size === 0) return void res.json({ status: 'ready', checks, intake });
    res.status(503).json({ status: 'unready', down: [...down], checks, intake });
  });
  return router;
}
