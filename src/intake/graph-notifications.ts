import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { getMailbox, type MailboxRow } from '../db/mailboxes';
import { upsertInboundMail } from '../db/mail-log';
import { mailboxAad } from '../integrations/microsoft-graph/msal';
import type { MailSettings } from '../integrations/microsoft-graph/settings';
import { decodeJsonStrict, DEFAULT_INPUT_LIMITS, inputErrorCode, type InputLimits } from '../http/input-boundary';
import { safeEqual } from '../security/compare';
import type { SecretBox } from '../security/secret-box';
import { mailboxWorkflowIds } from '../shared/mailbox';
import { emailToTicketFamily, emailToTicketInput } from '../starters/email-to-ticket';
import { jobFor } from '../starters/family';
import { mailboxLifecycleFamily } from '../starters/mailbox';
import { commitIntake, logOnly, type IngressReply, type IngressRequest, type IntakeDeps } from './ingress';
import { refusal, UUID_RE } from './replies';

export interface GraphIntakeDeps extends IntakeDeps {
  inputLimits?: InputLimits;
  secrets: SecretBox;
  settings: MailSettings;
}

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

/**
 * Graph proves an endpoint with `?validationToken=`: echo it, decoded, as text/plain within 10 s.
 * Returns null when the request is not a handshake.
 */
export function validationHandshake(query: Record<string, unknown>): IngressReply | null {
  const token = query['validationToken'];
  if (typeof token !== 'string') return null;
  if (token.length > MAX_VALIDATION_TOKEN) {
    return { status: 400, text: 'validationToken too long', outcome: 'rejected', integrationId: null };
  }
  return {
    status: 200,
    text: token,
    headers: { 'x-content-type-options': 'nosniff' },
    outcome: 'accepted',
    integrationId: null,
  };
}

type Admitted<T> = { ok: true; mailbox: MailboxRow; items: T[] } | { ok: false; reply: IngressReply };

/** Parses, finds the mailbox and checks every item's clientState; one bad item refuses the whole POST. */
async function admit<T extends { clientState?: string | null | undefined }>(
  deps: GraphIntakeDeps,
  req: IngressRequest,
  schema: z.ZodType<{ value: T[] }>,
): Promise<Admitted<T>> {
  const mailboxId = req.params['mailboxId'] ?? '';
  const mailbox = UUID_RE.test(mailboxId) ? await getMailbox(deps.db, mailboxId) : undefined;
  const refuse = async (status: number, code: string, message: string) => ({
    ok: false as const,
    reply: await logOnly(deps, 'graph', req, {
      ...refusal(status, code, message, null),
      mailboxId: mailbox?.id ?? null,
    }),
  });
  if (!mailbox || mailbox.method !== 'webhooks')
    return refuse(404, 'unknown_mailbox', `No webhooks mailbox ${mailboxId}`);
  const decoded = decodeJsonStrict(req.raw, deps.inputLimits ?? DEFAULT_INPUT_LIMITS);
  if (!decoded.ok) return refuse(400, inputErrorCode(decoded.problem), decoded.problem.message);
  const json = decoded.value;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return refuse(400, 'invalid_notification', `Not a Graph notification: ${problems}`);
  }
  const expected = mailbox.client_state_enc
    ? deps.secrets.decrypt(mailbox.client_state_enc, mailboxAad.clientState(mailbox.id))
    : null;
  // Every item is compared, even after a mismatch, so the answer time says nothing about which failed.
  let allMatch = expected !== null;
  for (const item of parsed.data.value) {
    if (!safeEqual(item.clientState ?? '', expected ?? '')) allMatch = false;
  }
  if (!allMatch) return refuse(401, 'invalid_client_state', 'clientState does not match this mailbox');
  return { ok: true, mailbox, items: parsed.data.value };
}

/**
 * Change notifications: each new email is logged and its email-to-ticket start recorded in the
 * same transaction, then 202 — Graph wants an answer within 3 s.
 */
export async function acceptGraphNotifications(deps: GraphIntakeDeps, req: IngressRequest): Promise<IngressReply> {
  const admitted = await admit(deps, req, envelope(changeItem));
  if (!admitted.ok) return admitted.reply;
  const { mailbox, items } = admitted;
  if (!mailbox.enabled) {
    // Acknowledged so Graph keeps the subscription healthy; a disabled mailbox processes nothing.
    const body = { accepted: 0, duplicates: 0, ignored: items.length, disabled: true };
    return logOnly(deps, 'graph', req, {
      status: 202,
      body,
      outcome: 'accepted',
      integrationId: null,
      mailboxId: mailbox.id,
    });
  }
  const ids = [
    ...new Set(items.filter((i) => i.changeType === 'created' && i.resourceData?.id).map((i) => i.resourceData!.id)),
  ];
  return commitIntake(deps, 'graph', req, async (tx) => {
    const rows = await upsertInboundMail(
      tx,
      mailbox.id,
      'notification',
      deps.settings.schedulerRetries,
      ids.map((id) => ({
        id: randomUUID(),
        graph_message_id: id,
        workflow_id: mailboxWorkflowIds.mail(mailbox.id, id),
      })),
    );
    const created = rows.filter((r) => r.created);
    return {
      jobs: created.map((r) =>
        jobFor(emailToTicketFamily, r.workflow_id, { input: emailToTicketInput(deps.settings, r, 'automatic') }),
      ),
      reply: {
        status: 202,
        body: { accepted: created.length, duplicates: ids.length - created.length, ignored: items.length - ids.length },
        outcome: created.length > 0 || ids.length === 0 ? 'accepted' : 'duplicate',
        integrationId: null,
        mailboxId: mailbox.id,
      },
    };
  });
}

/** Lifecycle notifications: recorded and answered 202; the mailbox workflow gets them in order. */
export async function acceptGraphLifecycle(deps: GraphIntakeDeps, req: IngressRequest): Promise<IngressReply> {
  const admitted = await admit(deps, req, envelope(lifecycleItem));
  if (!admitted.ok) return admitted.reply;
  const { mailbox, items } = admitted;
  deps.logger.info(
    { mailboxId: mailbox.id, events: items.map((i) => i.lifecycleEvent) },
    'graph lifecycle notification',
  );
  return commitIntake(deps, 'graph', req, async () => ({
    jobs: items.map((i) =>
      jobFor(mailboxLifecycleFamily, mailboxWorkflowIds.mailbox(mailbox.id), {
        event: i.lifecycleEvent,
        subscriptionId: i.subscriptionId,
      }),
    ),
    reply: {
      status: 202,
      body: { accepted: items.length },
      outcome: 'accepted',
      integrationId: null,
      mailboxId: mailbox.id,
    },
  }));
}
