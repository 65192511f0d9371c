import express, { type Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/pool';
import { intakeBacklog } from '../../db/intake-jobs';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))]);

/** `/healthz`: the process is up. `/readyz`: Temporal and PostgreSQL answer. */
export function healthRouter({ db, temporal }: { db: Db; temporal: Client }): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
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
    const ready = postgres.ok && temporalCheck.ok;
    // Ingress keeps answering while Temporal is down; the backlog says how much is waiting for it.
    const intake = postgres.ok ? await intakeBacklog(db).catch(() => null) : null;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'unready',
      checks: { postgres, temporal: temporalCheck },
      intake,
    });
  });
  return router;
}
