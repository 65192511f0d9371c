import express, { type Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../platform/db/pool';
import { queuedWork } from '../../platform/intake/backlog-queries';
import { intakeBacklog } from '../../platform/intake/jobs';
import { ERROR_KINDS, recentErrors } from '../../overview/recent-errors';
import { deliveryStats, incomingStats, mailboxExpiries } from '../../overview/stats';
import { parseOr400 } from '../errors';
import { decodeKindCursor, encodeKindCursor } from '../pagination';

const hours = z.coerce.number().int().min(1).max(168).default(24);

export const deliveryStatsQuery = z
  .object({ hours, webhookId: z.uuid().optional(), webhookLimit: z.coerce.number().int().min(1).max(200).default(20) })
  .strict();
export const incomingStatsQuery = z.object({ hours, integrationId: z.uuid().optional() }).strict();
export const mailboxStatsQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }).strict();
export const errorsQuery = z
  .object({
    kind: z.enum(ERROR_KINDS).optional(),
    cursor: z.string().max(300).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

// Response shapes, for the OpenAPI document.
const latency = { p50Ms: z.number().nullable(), p95Ms: z.number().nullable(), p99Ms: z.number().nullable() };
const deliveryCounts = {
  succeeded: z.number(),
  failed: z.number(),
  held: z.number(),
  inProgress: z.number(),
  ...latency,
};
const backlog = z.object({ pending: z.number(), oldestAgeSeconds: z.number() });
const incomingCounts = z.object({
  queued: z.number(),
  processing: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  stale: z.number(),
  other: z.number(),
});
export const deliveryStatsResponse = z.object({
  hours: z.array(z.object({ start: z.iso.datetime(), ...deliveryCounts })),
  total: z.object(deliveryCounts),
  webhooks: z.array(z.object({ webhookId: z.uuid(), name: z.string(), ...deliveryCounts })),
});
export const incomingStatsResponse = z.object({
  hours: z.array(incomingCounts.extend({ start: z.iso.datetime() })),
  total: incomingCounts,
});
export const intakeStatsResponse = backlog.extend({
  queued: z.object({ incomingWebhooks: backlog, inboundMail: backlog }),
});
export const mailboxStatsResponse = z.object({
  data: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      emailAddress: z.string().nullable(),
      method: z.string(),
      subscriptionStatus: z.string(),
      expiresAt: z.iso.datetime().nullable(),
      secondsToExpiry: z.number().nullable(),
      renewedAt: z.iso.datetime().nullable(),
      lastError: z.string().nullable(),
      lastErrorAt: z.iso.datetime().nullable(),
    }),
  ),
});
export const errorsResponse = z.object({
  data: z.array(
    z.object({
      kind: z.enum(ERROR_KINDS),
      id: z.string(),
      at: z.iso.datetime(),
      title: z.string(),
      error: z.string().nullable(),
      parentId: z.string().nullable(),
      parentName: z.string().nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

/** `GET /stats/*`: the overview's aggregates, computed in SQL. */
export function statsRouter(deps: { db: Db }): Router {
  const { db } = deps;
  const router = express.Router();

  router.get('/deliveries', async (req, res) => {
    const q = parseOr400(deliveryStatsQuery, req.query, 'query');
    res.json(await deliveryStats(db, q));
  });

  router.get('/incoming', async (req, res) => {
    const q = parseOr400(incomingStatsQuery, req.query, 'query');
    res.json(await incomingStats(db, q));
  });

  router.get('/intake', async (req, res) => {
    parseOr400(z.object({}).strict(), req.query, 'query');
    const [outbox, queued] = await Promise.all([intakeBacklog(db), queuedWork(db)]);
    res.json({ ...outbox, queued });
  });

  router.get('/mailboxes', async (req, res) => {
    const q = parseOr400(mailboxStatsQuery, req.query, 'query');
    res.json({ data: await mailboxExpiries(db, q.limit) });
  });

  router.get('/errors', async (req, res) => {
    const q = parseOr400(errorsQuery, req.query, 'query');
    const rows = await recentErrors(db, {
      kinds: q.kind ? [q.kind] : ERROR_KINDS,
      limit: q.limit + 1,
      cursor: decodeKindCursor(q.cursor, ERROR_KINDS),
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    res.json({
      data: page.map(({ atKey: _atKey, ...e }) => e),
      nextCursor:
        rows.length > q.limit && last ? encodeKindCursor({ at: last.atKey, kind: last.kind, id: last.id }) : null,
    });
  });

  return router;
}
