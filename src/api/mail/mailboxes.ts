import { randomBytes, randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import {
  getMailbox,
  listMailboxes,
  listNotifications,
  type MailboxRow,
  type MailboxSettings,
} from '../../mail/db/mailboxes';
import type { Db } from '../../platform/db/pool';
import { redirectUri, type MailSettings } from '../../mail/settings';
import type { SecretBox } from '../../platform/security/secret-box';
import type { MailboxProblemKind } from '../../mail/workflow-contract';
import { HttpError, parseOr400 } from '../errors';
import { inboundLogPage } from './inbound-mail';
import {
  cancelSubscription,
  ensureSubscription,
  mailboxState,
  runImport,
  type MailboxControlDeps,
} from '../../mail/mailbox-starter';
import { startSignIn } from '../../mail/mailbox-sign-in';
import { bindConsentToBrowser } from '../consent-cookie';
import { createMailbox, disconnectMailbox, removeMailbox, updateMailboxSettings } from '../../mail/mailbox-service';
import {
  checkMailboxSettings,
  createMailboxSchema,
  presentMailbox,
  presentSubscription,
  toColumns,
  updateMailboxSchema,
} from './mailbox-settings';

const uuid = z.uuid({ error: 'must be a UUID' });
const SUBSCRIBE_WAIT_MS = 30_000;
// Settings that identify the app and tenant: locked while a delegated sign-in holds tokens for them.
const LOCKED_WHEN_CONNECTED = ['tenantId', 'clientId', 'clientSecret', 'authority', 'method', 'sharedMailbox'] as const;

export interface MailboxRouteDeps extends MailboxControlDeps {
  db: Db;
  secrets: SecretBox;
  settings: MailSettings;
  temporalUiUrl: string;
  namespace: string;
}

// jsonb reorders keys: compare settings with sorted keys.
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
const currentValue = (m: MailboxRow, k: 'method' | 'emailAddress' | 'tenantId' | 'clientId' | 'authority') =>
  ({
    method: m.method,
    emailAddress: m.email_address,
    tenantId: m.tenant_id,
    clientId: m.client_id,
    authority: m.authority,
  })[k];

/** HTTP status and code for a problem Graph or the identity platform reported about a mailbox. */
export function problemAnswer(kind: MailboxProblemKind, message: string): HttpError {
  const codes: Record<MailboxProblemKind, [number, string]> = {
    credentials_rejected: [409, 'credentials_rejected'],
    reauthorization_required: [409, 'reauthorization_required'],
    forbidden: [409, 'mailbox_permission_denied'],
    not_found: [409, 'mailbox_not_found'],
    bad_request: [502, 'graph_rejected_request'],
    mailbox_missing: [404, 'mailbox_not_found'],
    wrong_method: [409, 'wrong_method'],
  };
  const [status, code] = codes[kind];
  return new HttpError(status, code, message);
}

/** `/api/v1/mailboxes`: configuration, subscription, delegated sign-in, import and error notifications. */
export function mailboxesRouter(deps: MailboxRouteDeps): Router {
  const { db, secrets, settings } = deps;
  const router = express.Router();

  const load = async (raw: string): Promise<MailboxRow> => {
    const id = parseOr400(uuid, raw, 'mailbox id');
    const row = await getMailbox(db, id);
    if (!row) throw new HttpError(404, 'mailbox_not_found', `No mailbox ${id}`);
    return row;
  };
  const present = (m: MailboxRow) => presentMailbox(m, settings);

  router.get('/', async (_req, res) => {
    res.json({ data: (await listMailboxes(db)).map(present) });
  });

  router.post('/', async (req, res) => {
    const body = parseOr400(createMailboxSchema, req.body);
    const id = randomUUID();
    const columns = toColumns(id, body, secrets) as MailboxSettings;
    checkMailboxSettings(columns, settings.scanMinIntervalSeconds, settings.outbound.policy);
    const row = await createMailbox(db, id, columns);
    res.status(201).json(present(row));
  });

  router.get('/:id', async (req, res) => {
    res.json(present(await load(req.params.id)));
  });

  router.patch('/:id', async (req, res) => {
    const existing = await load(req.params.id);
    const body = parseOr400(updateMailboxSchema, req.body);
    if (existing.connected_home_account_id) {
      const locked = LOCKED_WHEN_CONNECTED.filter((k) => body[k] !== undefined);
      if (locked.length)
        throw new HttpError(409, 'mailbox_connected', `Disconnect the mailbox before changing ${locked.join(', ')}`);
    }
    // The live subscription watches this mailbox's address at this tenant: it must go first.
    const moved = (['method', 'emailAddress', 'tenantId', 'clientId', 'authority'] as const).filter(
      (k) => body[k] !== undefined && canonical(body[k]) !== canonical(currentValue(existing, k)),
    );
    if (existing.subscription_id && moved.length) {
      throw new HttpError(409, 'subscription_active', `Cancel the subscription before changing ${moved.join(', ')}`);
    }
    // The client secret goes to the authority's login host, and Graph tokens to its Graph host:
    // only a caller who can state the secret may point them somewhere else.
    if (moved.includes('authority') && body.clientSecret === undefined) {
      throw new HttpError(
        400,
        'secret_required',
        "Changing authority sends the mailbox's client secret to a new host: send clientSecret in the same request",
        { fields: ['authority'], secret: 'clientSecret' },
      );
    }
    const patch = toColumns(existing.id, body, secrets);
    checkMailboxSettings(
      { ...existing, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) },
      settings.scanMinIntervalSeconds,
      settings.outbound.policy,
    );
    res.json(present(await updateMailboxSettings(deps, existing, patch)));
  });

  router.delete('/:id', async (req, res) => {
    await removeMailbox(deps, await load(req.params.id));
    res.status(204).end();
  });

  // "Create subscription": answered once Graph has validated our endpoint and created it.
  router.post('/:id/subscription', async (req, res) => {
    const mailbox = await load(req.params.id);
    if (mailbox.method !== 'webhooks')
      throw new HttpError(409, 'wrong_method', 'Subscriptions belong to the webhooks method');
    const pending = ensureSubscription(deps, mailbox.id);
    // Graph outages are retried inside the workflow; the caller is not kept waiting through them.
    const outcome = await Promise.race([
      pending,
      new Promise<null>((r) => setTimeout(r, SUBSCRIBE_WAIT_MS, null).unref()),
    ]);
    if (outcome === null) {
      pending.catch(() => undefined);
      res.status(202).json({
        created: false,
        ...presentSubscription((await getMailbox(db, mailbox.id))!),
        message: 'Still working on it: Graph is slow or unavailable; see GET .../subscription',
      });
      return;
    }
    if (!outcome.ok) throw problemAnswer(outcome.kind, outcome.message);
    const row = (await getMailbox(db, mailbox.id))!;
    res.status(outcome.created ? 201 : 200).json({ created: outcome.created, ...presentSubscription(row) });
  });

  router.get('/:id/subscription', async (req, res) => {
    const mailbox = await load(req.params.id);
    if (mailbox.method !== 'webhooks')
      throw new HttpError(409, 'wrong_method', 'Subscriptions belong to the webhooks method');
    res.json({ ...presentSubscription(mailbox), workflow: await mailboxState(deps, mailbox.id) });
  });

  // "Cancel subscription": the mailbox workflow deletes it at Graph and stops.
  router.delete('/:id/subscription', async (req, res) => {
    const mailbox = await load(req.params.id);
    if (mailbox.method !== 'webhooks')
      throw new HttpError(409, 'wrong_method', 'Subscriptions belong to the webhooks method');
    const outcome = await cancelSubscription(deps, mailbox.id);
    res.json({ deleted: outcome.deleted, message: outcome.message });
  });

  // "Authorize application": the URL to open in a browser; the identity platform returns to /azure/auth.
  router.post('/:id/authorize', async (req, res) => {
    const mailbox = await load(req.params.id);
    if (mailbox.method !== 'scan')
      throw new HttpError(409, 'wrong_method', 'Only scan mailboxes sign in with delegated permissions');
    const nonce = bindConsentToBrowser(req, res, redirectUri(settings));
    const { authorizeUrl, expiresAt } = await startSignIn(deps, mailbox, nonce);
    res.json({
      authorizeUrl,
      redirectUri: redirectUri(settings),
      expiresAt,
      warning: 'The account that signs in has its inbox processed (or the shared mailbox, when one is set).',
    });
  });

  router.post('/:id/disconnect', async (req, res) => {
    const mailbox = await load(req.params.id);
    res.json(present(await disconnectMailbox(deps, mailbox.id)));
  });

  // "Import emails": a delta round now, reporting permission problems instead of hiding them.
  router.post('/:id/import', async (req, res) => {
    const mailbox = await load(req.params.id);
    if (!mailbox.enabled) throw new HttpError(409, 'mailbox_disabled', 'The mailbox is disabled: enable it first');
    const outcome = await runImport(deps, mailbox.id, `${Date.now()}-${randomBytes(3).toString('hex')}`);
    if (!outcome.ok) throw problemAnswer(outcome.kind, outcome.message);
    res.json({ imported: outcome.started, seen: outcome.seen, pages: outcome.pages });
  });

  router.get('/:id/inbound-log', async (req, res) => {
    const mailbox = await load(req.params.id);
    res.json(await inboundLogPage(deps, req.query, mailbox.id));
  });

  router.get('/:id/error-notifications', async (req, res) => {
    const mailbox = await load(req.params.id);
    const rows = await listNotifications(db, mailbox.id);
    res.json({
      data: rows.map((n) => ({
        id: n.id,
        kind: n.kind,
        subject: n.subject,
        message: n.message,
        recipients: n.recipients,
        email: { status: n.email_status, error: n.email_error },
        event: { status: n.event_status, id: n.event_id },
        createdAt: n.created_at,
      })),
    });
  });

  return router;
}
