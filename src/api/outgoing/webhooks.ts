import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import { z } from 'zod';
import { failedDeliveriesSince, listDeliveries } from '../../outgoing/db/deliveries';
import type { Db } from '../../platform/db/pool';
import { getWebhook, listWebhooks, rowSettings, type WebhookRow } from '../../outgoing/db/webhooks';
import { findEventType } from '../../outgoing/catalogue';
import type { RuleViolation } from '../../outgoing/conditions';
import { readLaneState } from '../../outgoing/lane-state';
import { resendDeliveries } from '../../outgoing/resend';
import { laneWorkflowId } from '../../outgoing/workflow-contract';
import { openWebhookSecrets, type WebhookSecrets } from '../../outgoing/secrets';
import { activeSecrets, generateSigningSecret, isValidSigningSecret } from '../../platform/security/webhook-signing';
import {
  checkWebhookRules,
  mergeSettings,
  movedUrlRules,
  webhookCreateSchema,
  webhookUpdateSchema,
  type AuthSecret,
} from '../../outgoing/webhook-config';
import type { SecretBox } from '../../platform/security/secret-box';
import { createWebhook, removeWebhook, rotateSigningSecret, saveWebhook } from '../../outgoing/webhook-service';
import { HttpError, parseOr400 } from '../errors';
import { limitSchema, listPage, timeWindow, type Page } from '../pagination';
import { presentDelivery, workflowUrl, type DeliveryRouteDeps } from './deliveries';

export interface WebhookRouteDeps extends DeliveryRouteDeps {
  db: Db;
  secrets: SecretBox;
  /** For the lane's state query. */
  temporal: Client;
  taskQueue: string;
}

const idParam = z.uuid({ error: 'must be a UUID' });
/** The first broken rule names the error; all of them are in `details`. */
function refuseIfBroken(violations: RuleViolation[]) {
  const first = violations[0];
  if (!first) return;
  throw new HttpError(400, first.rule, violations.map((v) => v.message).join('; '), violations);
}

function presentWebhook(row: WebhookRow, secrets: WebhookSecrets) {
  const s = rowSettings(row);
  const auth = s.auth;
  return {
    id: row.id,
    name: s.name,
    url: s.url,
    type: s.type,
    method: s.method,
    authentication:
      auth.type === 'basic'
        ? { ...auth, hasPassword: !!secrets.auth.password }
        : auth.type === 'bearer'
          ? { ...auth, hasToken: !!secrets.auth.token }
          : auth.type === 'header'
            ? { ...auth, hasValue: !!secrets.auth.value }
            : auth,
    lightweightLogs: s.lightweightLogs,
    payload: s.payload,
    events: s.events.map((e) => ({ ...e, name: findEventType(e.type)?.name ?? e.type })),
    batching: s.batching,
    enabled: s.enabled,
    autoDisableThreshold: s.autoDisableThreshold,
    concurrencyLimit: s.concurrencyLimit,
    rateLimitPerSecond: s.rateLimitPerSecond,
    strictOrdering: s.strictOrdering,
    consecutiveFailures: row.consecutive_failures,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at,
    signing: {
      activeSecrets: activeSecrets(secrets.signing, new Date()).length,
      previousSecretsExpireAt: secrets.signing
        .slice(1)
        .filter((k) => k.expiresAt !== null && Date.parse(k.expiresAt) > Date.now())
        .map((k) => k.expiresAt),
    },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const rotateBody = z
  .object({
    secret: z.string().max(200).optional(),
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400)
      .optional(),
  })
  .strict();

export const deliveriesQuery = z
  .object({
    status: z.enum(['pending', 'in_flight', 'retrying', 'succeeded', 'failed', 'held']).optional(),
    eventType: z.string().max(100).optional(),
    eventId: z.uuid().optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().optional(),
    limit: limitSchema,
  })
  .strict();

export const bulkResendBody = z.union([
  z.object({ ids: z.array(z.uuid()).min(1).max(500) }).strict(),
  z
    .object({ failedSince: z.iso.datetime({ offset: true }), limit: z.number().int().min(1).max(1000).optional() })
    .strict(),
]);

/** Outgoing webhook configuration, its deliveries log and bulk resend. */
export function webhooksRouter(deps: WebhookRouteDeps): Router {
  const { db, secrets: box } = deps;
  const router = express.Router();
  const open = (row: WebhookRow) => openWebhookSecrets(box, row.id, row.secrets_enc);
  const load = async (raw: unknown) => {
    const id = parseOr400(idParam, raw, 'webhook id');
    const row = await getWebhook(db, id);
    if (!row) throw new HttpError(404, 'webhook_not_found', `No webhook ${id}`);
    return row;
  };

  router.get('/', async (req, res) => {
    const q = parseOr400(z.object({ cursor: z.string().optional(), limit: limitSchema }).strict(), req.query, 'query');
    res.json(
      await listPage(
        q,
        'uuid',
        (page) => listWebhooks(db, page),
        (r) => presentWebhook(r, open(r)),
      ),
    );
  });

  router.post('/', async (req, res) => {
    const body = parseOr400(webhookCreateSchema, req.body);
    const { settings, authSecret } = mergeSettings(body, undefined);
    refuseIfBroken(checkWebhookRules(settings, authSecret, deps.settings.policy, body.signingSecret));
    const { row, secrets, generatedSecret } = await createWebhook(deps, settings, authSecret, body.signingSecret);
    // A secret we generated is shown exactly once, here; one the caller chose is never echoed.
    res.status(201).json({
      ...presentWebhook(row, secrets),
      ...(generatedSecret !== undefined ? { signingSecret: generatedSecret } : {}),
    });
  });

  router.get('/:id', async (req, res) => {
    const row = await load(req.params.id);
    res.json(presentWebhook(row, open(row)));
  });

  router.patch('/:id', async (req, res) => {
    const current = await load(req.params.id);
    const body = parseOr400(webhookUpdateSchema, req.body);
    const secrets = open(current);
    const { settings, authSecret, authChanged } = mergeSettings(body, rowSettings(current));
    // Re-stating the same kind of authentication without its secret keeps the stored one.
    const sameKind = current.config.auth.type === settings.auth.type;
    const effective: AuthSecret = authChanged ? (authSecret ?? (sameKind ? secrets.auth : {})) : secrets.auth;
    refuseIfBroken(checkWebhookRules(settings, effective, deps.settings.policy));
    refuseIfBroken(movedUrlRules(rowSettings(current), settings, secrets.auth, authChanged ? authSecret : undefined));
    const next: WebhookSecrets = { ...secrets, auth: effective };
    const { row, released } = await saveWebhook(deps, current.id, settings, authChanged ? next : undefined);
    res.json({ ...presentWebhook(row, next), ...(released ? { releasedDeliveries: released } : {}) });
  });

  router.delete('/:id', async (req, res) => {
    const row = await load(req.params.id);
    await removeWebhook(db, row.id);
    res.status(204).end();
  });

  router.post('/:id/rotate-secret', async (req, res) => {
    const current = await load(req.params.id);
    const body = parseOr400(rotateBody, req.body ?? {});
    if (body.secret !== undefined && !isValidSigningSecret(body.secret)) {
      refuseIfBroken([
        { rule: 'invalid_signing_secret', message: 'secret: must be "whsec_" followed by base64 of 24 to 64 bytes' },
      ]);
    }
    const fresh = body.secret ?? generateSigningSecret();
    const grace = body.graceSeconds ?? deps.settings.secretGraceSeconds;
    const { row, secrets } = await rotateSigningSecret(deps, current.id, fresh, grace);
    res.json({ ...presentWebhook(row, secrets), ...(body.secret === undefined ? { signingSecret: fresh } : {}) });
  });

  // The webhook's delivery lane: queue depth, in flight, next retry and counters.
  router.get('/:id/lane', async (req, res) => {
    const row = await load(req.params.id);
    const workflowId = laneWorkflowId(row.id);
    res.json({ ...(await readLaneState(deps, row.id)), workflowId, workflowUrl: workflowUrl(deps, workflowId) });
  });

  router.get('/:id/deliveries', async (req, res) => {
    const row = await load(req.params.id);
    const q = parseOr400(deliveriesQuery, req.query, 'query');
    const filter = {
      webhookId: row.id,
      status: q.status,
      eventType: q.eventType === undefined ? undefined : (findEventType(q.eventType)?.key ?? q.eventType),
      eventId: q.eventId,
    };
    const read = (page: Page) => listDeliveries(db, { ...filter, ...timeWindow(q), ...page });
    res.json(await listPage(q, 'uuid', read, (d) => presentDelivery(d, deps)));
  });

  router.post('/:id/deliveries/resend', async (req, res) => {
    const row = await load(req.params.id);
    const body = parseOr400(bulkResendBody, req.body);
    if (row.lightweight_logs) {
      throw new HttpError(
        409,
        'lightweight_logs',
        'This webhook uses lightweight logs: its payloads are not kept, so deliveries cannot be re-sent.',
      );
    }
    const ids =
      'ids' in body
        ? body.ids
        : (await failedDeliveriesSince(db, row.id, new Date(body.failedSince), body.limit ?? 1000)).map((d) => d.id);
    const resent: string[] = [];
    const refused: Array<{ id: string; code: string; message: string }> = [];
    for (const { id, outcome } of await resendDeliveries(deps, ids, row.id)) {
      if (outcome.ok) resent.push(id);
      else refused.push({ id, code: outcome.refusal.code, message: outcome.refusal.message });
    }
    res.status(202).json({ resent, refused });
  });

  return router;
}
