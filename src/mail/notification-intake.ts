import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { getMailbox, getMailboxForIngress, type MailboxRow } from './db/mailboxes';
import { insertNotifiedMailIntake, REPLY_ACCEPTED, REPLY_DUPLICATES } from './db/notification-intake-statement';
import { mailboxAad } from './graph/msal';
import type { MailSettings } from './settings';
import { DEFAULT_INPUT_LIMITS, inputErrorCode, type InputLimits } from '../platform/http/input-boundary';
import { safeEqualTo } from '../platform/security/compare';
import type { SecretBox } from '../platform/security/secret-box';
import { mailboxWorkflowIds } from './workflow-contract';
import { emailToTicketFamily, emailToTicketInput } from './email-starter';
import { jobFor } from '../platform/intake/family';
import { mailboxLifecycleFamily } from './mailbox-starter';
import {
  commitIntake,
  commitIntakeStatement,
  decodeIngressJson,
  logOnly,
  type IngressReply,
  type IngressRequest,
  type IntakeDeps,
} from '../platform/ingress/ingress';
import { refusal, UUID_RE } from '../platform/ingress/refusals';

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
// Built once: making a zod schema costs more than parsing a notification with it.
const changeEnvelope = envelope(changeItem);
const lifecycleEnvelope = envelope(lifecycleItem);

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
type Verdict<T> =
  | { ok: true; mailbox: MailboxRow; items: T[] }
  | { ok: false; status: number; code: string; message: string; mailbox: MailboxRow | undefined };

/**
 * Parses, finds the mailbox and checks every item's clientState; one bad item refuses the whole
 * POST. The mailbox comes from a one-second cache, which may be behind a renewal (a new
 * clientState) or a re-enable done by another process: a refusal, or a disabled mailbox, is only
 * answered once a fresh read of the mailbox agrees.
 */
async function admit<T extends { clientState?: string | null | undefined }>(
  deps: GraphIntakeDeps,
  req: IngressRequest,
  schema: z.ZodType<{ value: T[] }>,
): Promise<Admitted<T>> {
  const mailboxId = req.params['mailboxId'] ?? '';
  const known = UUID_RE.test(mailboxId);
  const body = parseOnce(deps, req, schema);
  let verdict = judge(deps, known ? await getMailboxForIngress(deps.db, mailboxId) : undefined, body, mailboxId);
  if (known && (!verdict.ok || !verdict.mailbox.enabled)) {
    verdict = judge(deps, await getMailbox(deps.db, mailboxId), body, mailboxId);
  }
  if (verdict.ok) return verdict;
  return {
    ok: false,
    reply: await logOnly(deps, 'graph', req, {
      ...refusal(verdict.status, verdict.code, verdict.message, null),
      mailboxId: verdict.mailbox?.id ?? null,
    }),
  };
}

type Parsed<T> = { ok: true; items: T[] } | { ok: false; code: string; message: string };

/** The body, decoded and validated at most once however many times the mailbox is judged. */
function parseOnce<T>(deps: GraphIntakeDeps, req: IngressRequest, schema: z.ZodType<{ value: T[] }>) {
  let parsed: Parsed<T> | undefined;
  return (): Parsed<T> => {
    if (parsed) return parsed;
    const decoded = decodeIngressJson(req, deps.inputLimits ?? DEFAULT_INPUT_LIMITS);
    if (!decoded.ok)
      return (parsed = { ok: false, code: inputErrorCode(decoded.problem), message: decoded.problem.message });
    const result = schema.safeParse(decoded.value);
    if (!result.success) {
      const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return (parsed = { ok: false, code: 'invalid_notification', message: `Not a Graph notification: ${problems}` });
    }
    return (parsed = { ok: true, items: result.data.value });
  };
}

type ClientStateCheck = { known: boolean; matches: (candidate: string) => boolean };
// Per mailbox row object: the cached row serves a burst of POSTs, each of which would otherwise
// decrypt and hash the same clientState again. A fresh read is a new object, checked afresh.
const clientStateChecks = new WeakMap<MailboxRow, ClientStateCheck>();

function clientStateCheck(deps: GraphIntakeDeps, mailbox: MailboxRow): ClientStateCheck {
  let check = clientStateChecks.get(mailbox);
  if (!check) {
    const expected = mailbox.client_state_enc
      ? deps.secrets.decrypt(mailbox.client_state_enc, mailboxAad.clientState(mailbox.id))
      : null;
    check = { known: expected !== null, matches: safeEqualTo(expected ?? '') };
    clientStateChecks.set(mailbox, check);
  }
  return check;
}

function judge<T extends { clientState?: string | null | undefined }>(
  deps: GraphIntakeDeps,
  mailbox: MailboxRow | undefined,
  body: () => Parsed<T>,
  mailboxId: string,
): Verdict<T> {
  if (!mailbox || mailbox.method !== 'webhooks')
    return { ok: false, status: 404, code: 'unknown_mailbox', message: `No webhooks mailbox ${mailboxId}`, mailbox };
  const parsed = body();
  if (!parsed.ok) return { ok: false, status: 400, code: parsed.code, message: parsed.message, mailbox };
  const { known, matches } = clientStateCheck(deps, mailbox);
  // Every distinct value is compared, even after a mismatch, so the answer time says nothing
  // about which failed (Graph repeats one clientState across a POST's items).
  let allMatch = known;
  for (const state of new Set(parsed.items.map((i) => i.clientState ?? ''))) {
    if (!matches(state)) allMatch = false;
  }
  if (!allMatch)
    return {
      ok: false,
      status: 401,
      code: 'invalid_client_state',
      message: 'clientState does not match this mailbox',
      mailbox,
    };
  return { ok: true, mailbox, items: parsed.items };
}

/**
 * Change notifications: each new email is logged and its email-to-ticket start recorded in the
 * same transaction, then 202 — Graph wants an answer within 3 s.
 */
export async function acceptGraphNotifications(deps: GraphIntakeDeps, req: IngressRequest): Promise<IngressReply> {
  const admitted = await admit(deps, req, changeEnvelope);
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
  const ignored = items.length - ids.length;
  const reply = (created: number): IngressReply => ({
    status: 202,
    body: { accepted: created, duplicates: ids.length - created, ignored },
    outcome: created > 0 || ids.length === 0 ? 'accepted' : 'duplicate',
    integrationId: null,
    mailboxId: mailbox.id,
  });
  // Each email's row and start are built as if it were new; the statement keeps only the new ones.
  const mails = ids.map((graphId) => {
    const ref = {
      id: randomUUID(),
      mailbox_id: mailbox.id,
      graph_message_id: graphId,
      workflow_id: mailboxWorkflowIds.mail(mailbox.id, graphId),
      attempts_made: 0,
    };
    const input = emailToTicketInput(deps.settings, ref, 'automatic');
    return { id: ref.id, graph_message_id: graphId, job: jobFor(emailToTicketFamily, ref.workflow_id, { input }) };
  });
  const template = JSON.stringify({ accepted: REPLY_ACCEPTED, duplicates: REPLY_DUPLICATES, ignored });
  return commitIntakeStatement(deps, 'graph', req, reply(ids.length), async (db, log) => {
    const created = await insertNotifiedMailIntake(
      db,
      mailbox.id,
      deps.settings.schedulerRetries,
      mails,
      log,
      template,
    );
    return { reply: reply(created), queued: created > 0 };
  });
}

/** Lifecycle notifications: recorded and answered 202; the mailbox workflow gets them in order. */
export async function acceptGraphLifecycle(deps: GraphIntakeDeps, req: IngressRequest): Promise<IngressReply> {
  const admitted = await admit(deps, req, lifecycleEnvelope);
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
