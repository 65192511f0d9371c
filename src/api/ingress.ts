import type { Request, Response } from 'express';
import type { Db } from '../db/pool';
import { insertInboundRequest, type InboundRequestRow } from '../db/inbound-requests';
import type { Logger } from '../logger';
import { webhooksReceived } from '../observability/metrics';

const UNLOGGED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Headers as stored in the inbound request log: credentials dropped, the rest kept verbatim. */
export function loggableHeaders(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || UNLOGGED_HEADERS.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export interface IngressAnswer {
  status: number;
  body?: unknown;
  outcome: InboundRequestRow['outcome'];
  integrationId: string | null;
  incomingWebhookId?: string | null;
  /** The mailbox a Graph notification was for (the inbound request log filters by it). */
  mailboxId?: string | null;
}

/**
 * Answers an ingress request and records it, with the answer given, in the inbound
 * request log — rejected requests included. A failure to log never changes the answer.
 */
export async function answerAndLog(
  deps: { db: Db; logger: Logger },
  req: Request,
  res: Response,
  provider: string,
  answer: IngressAnswer,
): Promise<void> {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  webhooksReceived.inc({ provider, outcome: answer.outcome });
  const responseBody = answer.body === undefined ? null : JSON.stringify(answer.body);
  try {
    await insertInboundRequest(deps.db, {
      integration_id: answer.integrationId,
      provider,
      method: req.method,
      path: req.originalUrl,
      headers: loggableHeaders(req),
      body: raw.toString('utf8'),
      body_bytes: raw.length || Number(req.get('content-length') ?? 0),
      remote_addr: req.ip ?? null,
      duration_ms: Math.round(performance.now() - (res.locals['startedAt'] as number)),
      response_status: answer.status,
      response_body: responseBody,
      outcome: answer.outcome,
      incoming_webhook_id: answer.incomingWebhookId ?? null,
      mailbox_id: answer.mailboxId ?? null,
    });
  } catch (err) {
    deps.logger.error({ err, provider }, 'could not record inbound request');
  }
  if (answer.body === undefined) res.status(answer.status).end();
  else res.status(answer.status).type('application/json').send(responseBody);
}
