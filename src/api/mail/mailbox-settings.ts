import { z } from 'zod';
import type { MailboxRow, MailboxSettings } from '../../mail/db/mailboxes';
import { authorityDestinationProblems, authoritySchema, type AuthoritySetting } from '../../mail/graph/authority';
import type { DestinationPolicy } from '../../platform/http/safe-request';
import { requiredPermission } from '../../mail/graph/errors';
import { mailboxAad } from '../../mail/graph/msal';
import { notificationUrls, redirectUri, type MailSettings } from '../../mail/settings';
import type { SecretBox } from '../../platform/security/secret-box';
import { HttpError } from '../errors';

const email = z
  .email({ error: 'must be an email address' })
  .max(320)
  .transform((v) => v.toLowerCase());

const fields = {
  name: z.string().trim().min(1).max(200),
  connectionType: z.literal('office365', { error: 'must be "office365" (Office 365 / Azure)' }),
  tenantId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/, { error: 'must be the directory (tenant) id or a verified domain' }),
  clientId: z.guid({ error: 'must be the application (client) id, a GUID' }),
  clientSecret: z.string().min(1).max(1024),
  authority: authoritySchema,
  method: z.enum(['webhooks', 'scan']),
  emailAddress: email,
  mailboxType: z.enum(['standard', 'shared']),
  sharedMailbox: email.nullable(),
  scanIntervalSeconds: z.int().min(1).max(86_400).nullable(),
  afterProcessing: z.enum(['mark_read', 'move', 'none']),
  moveToFolder: z.string().trim().min(1).max(200).nullable(),
  errorRecipients: z.array(email).max(50),
  outgoingDefault: z.boolean(),
  enabled: z.boolean(),
};

export const createMailboxSchema = z
  .object({
    ...fields,
    connectionType: fields.connectionType.default('office365'),
    authority: fields.authority.default({ kind: 'global' }),
    emailAddress: fields.emailAddress.optional(),
    mailboxType: fields.mailboxType.default('standard'),
    sharedMailbox: fields.sharedMailbox.optional(),
    scanIntervalSeconds: fields.scanIntervalSeconds.optional(),
    afterProcessing: fields.afterProcessing.default('mark_read'),
    moveToFolder: fields.moveToFolder.optional(),
    errorRecipients: fields.errorRecipients.default([]),
    outgoingDefault: fields.outgoingDefault.default(false),
    enabled: fields.enabled.default(true),
  })
  .strict();

export const updateMailboxSchema = z.object(fields).partial().strict();

export type CreateMailboxBody = z.output<typeof createMailboxSchema>;
export type UpdateMailboxBody = z.output<typeof updateMailboxSchema>;

/** Columns from a request body; the secret is encrypted here and never stored in clear. */
export function toColumns(
  id: string,
  body: { [K in keyof CreateMailboxBody]?: CreateMailboxBody[K] | undefined },
  secrets: SecretBox,
): { [K in keyof MailboxSettings]?: MailboxSettings[K] | undefined } {
  return {
    name: body.name,
    connection_type: body.connectionType,
    tenant_id: body.tenantId,
    client_id: body.clientId,
    secrets_enc:
      body.clientSecret === undefined
        ? undefined
        : secrets.encryptJson({ clientSecret: body.clientSecret }, mailboxAad.secrets(id)),
    authority: body.authority as AuthoritySetting | undefined,
    method: body.method,
    email_address: body.emailAddress,
    mailbox_type: body.mailboxType,
    shared_mailbox: body.sharedMailbox,
    scan_interval_seconds: body.scanIntervalSeconds,
    after_processing: body.afterProcessing,
    move_to_folder: body.moveToFolder,
    error_recipients: body.errorRecipients,
    outgoing_default: body.outgoingDefault,
    enabled: body.enabled,
  };
}

/** Rules that span fields, checked on the settings a mailbox would have after the change. */
export function checkMailboxSettings(
  m: Pick<
    MailboxSettings,
    | 'method'
    | 'email_address'
    | 'shared_mailbox'
    | 'scan_interval_seconds'
    | 'after_processing'
    | 'move_to_folder'
    | 'authority'
  >,
  minScanSeconds: number,
  policy: DestinationPolicy,
): void {
  const problems: Array<{ path: string; message: string }> = [...authorityDestinationProblems(m.authority, policy)];
  if (m.method === 'webhooks') {
    if (!m.email_address) problems.push({ path: 'emailAddress', message: 'is required for the webhooks method' });
    if (m.shared_mailbox)
      problems.push({
        path: 'sharedMailbox',
        message: 'applies to the scan method; for webhooks put the shared address in emailAddress',
      });
    if (m.scan_interval_seconds !== null && m.scan_interval_seconds !== undefined) {
      problems.push({ path: 'scanIntervalSeconds', message: 'applies to the scan method only' });
    }
  } else {
    if (m.email_address)
      problems.push({
        path: 'emailAddress',
        message: 'applies to the webhooks method; a scan reads the signed-in mailbox (or sharedMailbox)',
      });
    if (
      m.scan_interval_seconds !== null &&
      m.scan_interval_seconds !== undefined &&
      m.scan_interval_seconds < minScanSeconds
    ) {
      problems.push({ path: 'scanIntervalSeconds', message: `must be at least ${minScanSeconds}` });
    }
  }
  if (m.after_processing === 'move' && !m.move_to_folder) {
    problems.push({ path: 'moveToFolder', message: 'is required when afterProcessing is "move"' });
  }
  if (problems.length > 0) {
    throw new HttpError(
      400,
      'validation_failed',
      `The request body is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    );
  }
}

/** A webhooks mailbox's subscription as recorded. */
export function presentSubscription(m: MailboxRow) {
  return {
    id: m.subscription_id,
    status: m.subscription_status,
    resource: m.subscription_resource,
    expiresAt: m.subscription_expires_at,
    createdAt: m.subscription_created_at,
    renewedAt: m.subscription_renewed_at,
    renewals: m.subscription_renewals,
    lifetimeMinutes: m.subscription_max_minutes,
    error: m.subscription_error,
  };
}

/** The mailbox as the API shows it: settings, what to register in Azure, subscription or sign-in state. Never the secret. */
export function presentMailbox(m: MailboxRow, settings: MailSettings) {
  const shared = m.method === 'scan' ? !!m.shared_mailbox : m.mailbox_type === 'shared';
  return {
    id: m.id,
    name: m.name,
    connectionType: m.connection_type,
    tenantId: m.tenant_id,
    clientId: m.client_id,
    hasClientSecret: true,
    authority: m.authority,
    method: m.method,
    emailAddress: m.email_address,
    mailboxType: m.mailbox_type,
    sharedMailbox: m.shared_mailbox,
    scanIntervalSeconds:
      m.method === 'scan'
        ? Math.max(settings.scanMinIntervalSeconds, m.scan_interval_seconds ?? settings.scanIntervalSeconds)
        : null,
    afterProcessing: m.after_processing,
    moveToFolder: m.move_to_folder,
    errorRecipients: m.error_recipients,
    outgoingDefault: m.outgoing_default,
    enabled: m.enabled,
    requiredPermissions: [
      requiredPermission('read', m.method, m.method === 'scan' && shared),
      requiredPermission('send', m.method, m.method === 'scan' && shared),
      ...(m.method === 'scan' ? ['offline_access (delegated permission)'] : []),
    ],
    ...(m.method === 'webhooks'
      ? {
          ...notificationUrls(settings, m.id),
          subscription: presentSubscription(m),
        }
      : {
          redirectUri: redirectUri(settings),
          connection: {
            status: m.connected_home_account_id ? 'connected' : 'not_connected',
            account: m.connected_account,
            connectedAt: m.connected_at,
          },
        }),
    processingSince: m.process_since,
    deltaSyncedAt: m.delta_synced_at,
    lastError: m.last_error,
    lastErrorAt: m.last_error_at,
    createdAt: m.created_at,
    updatedAt: m.updated_at,
  };
}
