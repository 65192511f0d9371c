import { randomUUID } from 'node:crypto';
import { releaseHeldDeliveries } from './db/deliveries';
import { withTransaction, type Db } from '../platform/db/pool';
import {
  deleteWebhook,
  getWebhook,
  insertWebhook,
  setWebhookSecrets,
  updateWebhook,
  type WebhookRow,
} from './db/webhooks';
import { commitWork } from '../platform/ingress/ingress';
import type { ServiceDeps } from './resend';
import { openWebhookSecrets, sealWebhookSecrets, type WebhookSecrets } from './secrets';
import { generateSigningSecret, rotateKeys } from '../platform/security/webhook-signing';
import type { AuthSecret, WebhookSettings } from './webhook-config';
import type { SecretBox } from '../platform/security/secret-box';
import { laneWakeJobs } from './lane-starter';

/**
 * Storing outgoing webhooks: their settings, and their secrets (authentication and signing keys)
 * sealed as one value under the webhook's id. Settings arrive already checked against the rules.
 */

export interface WebhookStoreDeps extends ServiceDeps {
  secrets: SecretBox;
}

/** Stores a new webhook with one signing key; a key Switchyard generated is returned once, here. */
export async function createWebhook(
  deps: Pick<WebhookStoreDeps, 'db' | 'secrets'>,
  settings: WebhookSettings,
  authSecret: AuthSecret | undefined,
  signingSecret: string | undefined,
): Promise<{ row: WebhookRow; secrets: WebhookSecrets; generatedSecret?: string }> {
  const id = randomUUID();
  const secret = signingSecret ?? generateSigningSecret();
  const secrets: WebhookSecrets = {
    auth: authSecret ?? {},
    signing: [{ secret, createdAt: new Date().toISOString(), expiresAt: null }],
  };
  const row = await insertWebhook(deps.db, id, settings, sealWebhookSecrets(deps.secrets, id, secrets));
  return signingSecret === undefined ? { row, secrets, generatedSecret: secret } : { row, secrets };
}

/**
 * Saves a webhook's settings (and its secrets, when given) and, when it is (re-)enabled, queues
 * its held deliveries again and records its lane's wake in the same transaction — a crash in
 * between cannot leave them held.
 */
export async function saveWebhook(
  deps: WebhookStoreDeps,
  id: string,
  settings: WebhookSettings,
  secrets: WebhookSecrets | undefined,
): Promise<{ row: WebhookRow; released: number }> {
  const secretsEnc = secrets ? sealWebhookSecrets(deps.secrets, id, secrets) : undefined;
  return commitWork(deps, async (tx) => {
    const row = await updateWebhook(tx, id, settings, secretsEnc);
    const released = row.enabled ? await releaseHeldDeliveries(tx, id) : 0;
    // Enabled: held deliveries and waiting batch items go out; new limits apply at once.
    return { result: { row, released }, jobs: row.enabled ? laneWakeJobs([id]) : [] };
  });
}

/**
 * Makes `fresh` the signing key; the previous keys stay valid for `graceSeconds` so receivers
 * can switch over. Locked, so two rotations at once cannot drop each other's key.
 */
export async function rotateSigningSecret(
  deps: Pick<WebhookStoreDeps, 'db' | 'secrets'>,
  id: string,
  fresh: string,
  graceSeconds: number,
): Promise<{ row: WebhookRow; secrets: WebhookSecrets }> {
  const { db, secrets: box } = deps;
  const secrets = await withTransaction(db, async (c) => {
    const row = (await getWebhook(c, id, 'update'))!;
    const s = openWebhookSecrets(box, row.id, row.secrets_enc);
    const next: WebhookSecrets = { ...s, signing: rotateKeys(s.signing, fresh, graceSeconds, new Date()) };
    await setWebhookSecrets(c, row.id, sealWebhookSecrets(box, row.id, next));
    return next;
  });
  return { row: (await getWebhook(db, id))!, secrets };
}

/** Deletes a webhook; its deliveries go with it. False when there was none. */
export const removeWebhook = (db: Db, id: string): Promise<boolean> => deleteWebhook(db, id);
