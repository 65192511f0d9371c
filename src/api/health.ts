import express, { type Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../platform/db/pool';
import { intakeBacklog } from '../platform/intake/jobs';
import type { PartStates } from '../platform/context';
import { clientForCredential } from '../platform/security/api-credentials';
import { safeEqual } from '../platform/security/compare';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  ]);

export type { PartStates };

/**
 * Whether the caller may read why a dependency is down: the metrics token (which works while
 * PostgreSQL is down) or an admin-scoped API key. Anyone else is told only which part is down: the
 * raw error texts name hosts, ports, users and server versions.
 */
async function mayReadDetails(db: Db, metricsToken: string | undefined, header: string | undefined) {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!bearer) return false;
  if (metricsToken && safeEqual(bearer, metricsToken)) return true;
  const client = await withTimeout(clientForCredential(db, bearer), 2000).catch(() => undefined);
  return client?.kind === 'api_key' && client.scope === 'admin';
}

/**
 * `/healthz`: 200 `ok` when the process and every supervised part are up, 503 `degraded` naming
 * the parts that are down (being restarted). `/readyz`: Temporal and PostgreSQL answer; `down`
 * names the part that does not. The error texts and the intake backlog only for `mayReadDetails`.
 */
export function healthRouter({
  db,
  temporal,
  parts,
  metricsToken,
}: {
  db: Db;
  temporal: Client;
  parts?: PartStates | undefined;
  metricsToken?: string | undefined;
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
  router.get('/readyz', async (req, res) => {
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
    const down = new Set(
      Object.entries(checks)
        .filter(([, c]) => !c.ok)
        .map(([n]) => n),
    );
    for (const [n] of partsDown()) down.add(n);
    const detailed = await mayReadDetails(db, metricsToken, req.get('authorization'));
    // Ingress keeps answering while Temporal is down; the backlog says how much is waiting for it.
    const intake = detailed && postgres.ok ? await intakeBacklog(db).catch(() => null) : null;
    const shown = detailed
      ? { checks, intake }
      : { checks: { postgres: { ok: postgres.ok }, temporal: { ok: temporalCheck.ok } } };
    res.set('Cache-Control', 'no-store');
    if (down.size === 0) return void res.json({ status: 'ready', ...shown });
    res.status(503).json({ status: 'unready', down: [...down], ...shown });
  });
  return router;
}
