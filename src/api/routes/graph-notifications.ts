import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { getMailbox, type MailboxRow } from '../../db/mailboxes';
import { upsertInboundMail } from '../../db/mail-log';
import type { Db } from '../../db/pool';
import { mailboxAad } from '../../integrations/microsoft-graph/msal';
import type { MailSettings } from '../../integrations/microsoft-graph/settings';
import { mailWorkflowId, startEmailToTicket } from '../../integrations/microsoft-graph/workflows';
import type { Logger } from '../../logger';
import { safeEqual } from '../../security/compare';
import type { SecretBox } from '../../security/secret-box';
import { errorBody } from '../errors';
import { answerAndLog } from '../ingress';
import { signalLifecycle } from '../mailbox-control';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_VALIDATION_TOKEN = 2048;

const changeItem = z
  .object({
    subscriptionId: z.string().min(1).max(200),
    clientState: z.string().max(256).nullable().optional(),
    changeType: z.string().max(50),
    resource: z.string().max(2000).optional(),
    resourceData: z
      .object({ id: z.string().min(1).max(1000) })
      .loose()
      .optional(),
  })
  .loose();

const lifecycleItem = z
  .object({
    subscriptionId: z.string().min(1).max(200),
    clientState: z.string().max(256).nullable().optional(),
    lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
  })
  .loose();

const envelope = <T extends z.ZodType>(item: T) => z.object({ value: z.array(item).min(1).max(1000) }).loose();

export interface GraphHooksDeps {
  db: Db;
  logger: Logger;
  temporal: Client;
  taskQueue: string;
  secrets: SecretBox;
  settings: MailSettings;
}

type Refusal = { status: number; code: string; message: string; mailboxId: string | null };

/**
 * Microsoft Graph change and lifecycle notifications for a mailbox. Answers the validation
 * handshake, checks clientState in constant time on every item (one bad item refuses the whole
 * POST, which then changes nothing), logs each email and starts its workflow, then answers 202.
 */
export function graphHooksRouter(deps: GraphHooksDeps): Router {
  const { db, secrets, settings } = deps;
  const router = express.Router();

  const refuse = (req: Request, res: Response, r: Refusal) =>
    answerAndLog(deps, req, res, 'graph', {
      status: r.status,
      body: errorBody(r.code, r.message),
      outcome: 'rejected',
      integrationId: null,
      mailboxId: r.mailboxId,
    });

  // Graph proves the endpoint with `?validationToken=`: echo it, decoded, as text/plain within 10 s.
  const validation = (req: Request, res: Response): boolean => {
    const token = req.query['validationToken'];
    if (typeof token !== 'string') return false;
    if (token.length > MAX_VALIDATION_TOKEN) {
      res.status(400).type('text/plain').send('validationToken too long');
      return true;
    }
    res.status(200).set('X-Content-Type-Options', 'nosniff').type('text/plain').send(token);
    return true;
  };

  /** Parses, finds the mailbox and checks every item's clientState; answers and returns null on refusal. */
  async function admit<T extends { clientState?: string | null | undefined }>(
    req: Request,
    res: Response,
    schema: z.ZodType<{ value: T[] }>,
  ): Promise<{ mailbox: MailboxRow; items: T[] } | null> {
    const mailboxId = String(req.params['mailboxId'] ?? '');
    const mailbox = UUID_RE.test(mailboxId) ? await getMailbox(db, mailboxId) : undefined;
    if (!mailbox || mailbox.method !== 'webhooks') {
      await refuse(req, res, {
        status: 404,
        code: 'unknown_mailbox',
        message: `No webhooks mailbox ${mailboxId}`,
        mailboxId: null,
      });
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse((Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)).toString('utf8'));
    } catch {
      await refuse(req, res, { status: 400, code: 'malformed_json', message: 'The body is not valid JSON', mailboxId });
      return null;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const message = `Not a Graph notification: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
      await refuse(req, res, { status: 400, code: 'invalid_notification', message, mailboxId });
      return null;
    }
    const expected = mailbox.client_state_enc
      ? secrets.decrypt(mailbox.client_state_enc, mailboxAad.clientState(mailbox.id))
      : null;
    // Every item is compared, even after a mismatch, so the answer time says nothing about which failed.
    let allMatch = expected !== null;
    for (const item of parsed.data.value) {
      if (!safeEqual(item.clientState ?? '', expected ?? '')) allMatch = false;
    }
    if (!allMatch) {
      await refuse(req, res, {
        status: 401,
        code: 'invalid_client_state',
        message: 'clientState does not match this mailbox',
        mailboxId,
      });
      return null;
    }
    return { mailbox, items: parsed.data.value };
  }

  router.post('/:mailboxId/notifications', async (req, res) => {
    if (validation(req, res)) return;
    const admitted = await admit(req, res, envelope(changeItem));
    if (!admitted) return;
    const { mailbox, items } = admitted;
    if (!mailbox.enabled) {
      // Acknowledged so Graph keeps the subscription healthy; a disabled mailbox processes nothing.
      await answerAndLog(deps, req, res, 'graph', {
        status: 202,
        body: { accepted: 0, duplicates: 0, ignored: items.length, disabled: true },
        outcome: 'accepted',
        integrationId: null,
        mailboxId: mailbox.id,
      });
      return;
    }
    const ids = [
      ...new Set(items.filter((i) => i.changeType === 'created' && i.resourceData?.id).map((i) => i.resourceData!.id)),
    ];
    const rows = await upsertInboundMail(
      db,
      mailbox.id,
      'notification',
      settings.schedulerRetries,
      ids.map((id) => ({ id: randomUUID(), graph_message_id: id, workflow_id: mailWorkflowId(mailbox.id, id) })),
    );
    const created = rows.filter((r) => r.created).length;
    // Persisted is durable: answer now, then start the workflows. A burst of starts can take
    // longer than Graph's 3 s; a start lost with this process is redone by the mailbox's sweep.
    await answerAndLog(deps, req, res, 'graph', {
      status: 202,
      body: { accepted: created, duplicates: ids.length - created, ignored: items.length - ids.length },
      outcome: created > 0 || ids.length === 0 ? 'accepted' : 'duplicate',
      integrationId: null,
      mailboxId: mailbox.id,
    });
    // A redelivered notification for an email not picked up yet re-issues the (idempotent) start.
    const toStart = rows.filter((r) => r.created || r.status === 'queued');
    const start = { temporal: deps.temporal, taskQueue: deps.taskQueue, settings };
    await Promise.all(toStart.map((r) => startEmailToTicket(start, r, 'automatic', 'first'))).catch((err: unknown) =>
      deps.logger.error({ err, mailboxId: mailbox.id }, 'could not start email workflows; the next sweep or scan will'),
    );
  });

  router.post('/:mailboxId/lifecycle', async (req, res) => {
    if (validation(req, res)) return;
    const admitted = await admit(req, res, envelope(lifecycleItem));
    if (!admitted) return;
    const control = { temporal: deps.temporal, taskQueue: deps.taskQueue, settings };
    let delivered = 0;
    for (const item of admitted.items) {
      if (
        await signalLifecycle(control, admitted.mailbox.id, {
          event: item.lifecycleEvent,
          subscriptionId: item.subscriptionId,
        })
      ) {
        delivered += 1;
      }
    }
    deps.logger.info(
      { mailboxId: admitted.mailbox.id, events: admitted.items.map((i) => i.lifecycleEvent) },
      'graph lifecycle notification',
    );
    await answerAndLog(deps, req, res, 'graph', {
      status: 202,
      body: { delivered },
      outcome: 'accepted',
      integrationId: null,
      mailboxId: admitted.mailbox.id,
    });
  });

  return router;
}
