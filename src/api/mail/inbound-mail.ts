import express, { type Router } from 'express';
import { z } from 'zod';
import {
  countInboundMailByStatus,
  getInboundMail,
  listInboundMail,
  listMailRequests,
  type InboundMailRow,
} from '../../mail/db/mail-log';
import { retryInboundMail, type MailRetryDeps } from '../../mail/inbound-mail-retry';
import { HttpError, parseOr400 } from '../errors';
import { decodeCursor, keysetPage, limitSchema } from '../pagination';

const STATUSES = [
  'queued',
  'processing',
  'retrying',
  'ticket_created',
  'ticket_updated',
  'duplicate',
  'skipped',
  'failed',
] as const;

export const listQuery = z
  .object({
    mailboxId: z.uuid().optional(),
    status: z.enum(STATUSES).optional(),
    cursor: z.string().optional(),
    limit: limitSchema,
  })
  .strict();

export const retryMany = z
  .object({
    ids: z.array(z.uuid()).min(1).max(500).optional(),
    mailboxId: z.uuid().optional(),
    status: z.enum(['failed']).optional(),
  })
  .strict()
  .refine((b) => b.ids !== undefined || b.status !== undefined, {
    error: 'give ids, or status "failed" (optionally with mailboxId)',
  });

export interface InboundMailDeps extends MailRetryDeps {
  temporalUiUrl: string;
  namespace: string;
}

export function presentInboundMail(m: InboundMailRow, deps: Pick<InboundMailDeps, 'temporalUiUrl' | 'namespace'>) {
  return {
    id: m.id,
    mailboxId: m.mailbox_id,
    graphMessageId: m.graph_message_id,
    source: m.source,
    status: m.status,
    subject: m.subject,
    from: m.from_address ? { address: m.from_address, name: m.from_name } : null,
    internetMessageId: m.internet_message_id,
    conversationId: m.conversation_id,
    receivedAt: m.received_at,
    ticketId: m.ticket_id,
    outcome: m.outcome,
    error: m.error,
    attemptsMade: m.attempts_made,
    automaticRetriesRemaining: m.status === 'failed' ? m.scheduler_retries_left : 0,
    nextRetryAt: m.next_retry_at,
    manualRetries: m.manual_retries,
    afterProcessing: m.post_action,
    afterProcessingError: m.post_action_error,
    eventId: m.event_id,
    firstSeenAt: m.first_seen_at,
    processedAt: m.processed_at,
    workflowId: m.workflow_id,
    workflowUrl: `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(m.workflow_id)}`,
  };
}

/** Lists the inbound log across mailboxes or for one (`mailboxId`), newest first, with keyset paging. */
export async function inboundLogPage(deps: InboundMailDeps, query: unknown, mailboxId?: string) {
  const q = parseOr400(listQuery, query, 'query');
  const rows = await listInboundMail(deps.db, {
    mailboxId: mailboxId ?? q.mailboxId,
    status: q.status,
    before: decodeCursor(q.cursor, 'uuid'),
    limit: q.limit + 1,
  });
  const { page, nextCursor } = keysetPage(rows, q.limit);
  return { data: page.map((r) => presentInboundMail(r, deps)), nextCursor };
}

/** `/api/v1/inbound-mail`: the mailbox inbound log, each email's requests (attempts), and retries. */
export function inboundMailRouter(deps: InboundMailDeps): Router {
  const { db } = deps;
  const router = express.Router();

  router.get('/', async (req, res) => {
    res.json(await inboundLogPage(deps, req.query));
  });

  router.get('/summary', async (req, res) => {
    const q = parseOr400(z.object({ mailboxId: z.uuid().optional() }).strict(), req.query, 'query');
    const byStatus = await countInboundMailByStatus(db, q.mailboxId);
    res.json({ total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus });
  });

  router.post('/retry', async (req, res) => {
    const body = parseOr400(retryMany, req.body);
    const rows = body.ids
      ? (await Promise.all(body.ids.map((id) => getInboundMail(db, id)))).filter((r): r is InboundMailRow => !!r)
      : await listInboundMail(db, { mailboxId: body.mailboxId, status: 'failed', limit: 500 });
    const results: Record<string, string> = {};
    for (const row of rows) results[row.id] = await retryInboundMail(deps, row);
    res.status(202).json({ results });
  });

  router.get('/:id', async (req, res) => {
    const id = parseOr400(z.uuid(), req.params.id, 'inbound mail id');
    const row = await getInboundMail(db, id);
    if (!row) throw new HttpError(404, 'inbound_mail_not_found', `No inbound mail ${id}`);
    const requests = await listMailRequests(db, id);
    res.json({
      ...presentInboundMail(row, deps),
      requests: requests.map((r) => ({
        attempt: r.attempt,
        trigger: r.trigger,
        status: r.status,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        error: r.error,
        hasRawData: r.raw !== null,
        log: r.log,
      })),
    });
  });

  router.get('/:id/requests/:attempt', async (req, res) => {
    const id = parseOr400(z.uuid(), req.params.id, 'inbound mail id');
    const attempt = parseOr400(z.coerce.number().int().min(1), req.params.attempt, 'attempt');
    const request = (await listMailRequests(db, id)).find((r) => r.attempt === attempt);
    if (!request) throw new HttpError(404, 'request_not_found', `No request ${attempt} for inbound mail ${id}`);
    res.json({
      attempt: request.attempt,
      trigger: request.trigger,
      status: request.status,
      startedAt: request.started_at,
      finishedAt: request.finished_at,
      error: request.error,
      rawData: request.raw,
      log: request.log,
    });
  });

  router.post('/:id/retry', async (req, res) => {
    const id = parseOr400(z.uuid(), req.params.id, 'inbound mail id');
    const row = await getInboundMail(db, id);
    if (!row) throw new HttpError(404, 'inbound_mail_not_found', `No inbound mail ${id}`);
    const result = await retryInboundMail(deps, row);
    if (result === 'running') throw new HttpError(409, 'already_processing', 'This email is being processed right now');
    if (result === 'not_retryable') {
      throw new HttpError(
        409,
        'not_retryable',
        `An email with status "${row.status}" is done; only failed or skipped emails are retried`,
      );
    }
    res.status(202).json({ id, status: 'queued', workflowId: row.workflow_id });
  });

  return router;
}
