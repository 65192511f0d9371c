import { randomBytes, randomUUID } from 'node:crypto';
import {
  deleteIntegration,
  insertIntegration,
  updateIntegration,
  type IntegrationRow,
  type SignatureScheme,
} from './db/integrations';
import { generateSigningSecret } from '../platform/security/webhook-signing';
import type { Queryable } from '../platform/db/pool';
import type { SecretBox } from '../platform/security/secret-box';
import type { ProcessingMethod } from './processing-methods';

/**
 * Storing generic integrations (signed webhooks from any sender). The signing secret is kept
 * encrypted under the integration's id; one Switchyard generated is returned once, here. New
 * integrations verify Standard Webhooks (a `whsec_` secret); `body-hmac` is the opt-in for
 * senders that sign the body alone.
 */

export interface IntegrationStoreDeps {
  db: Queryable;
  secrets: SecretBox;
}

/** What the generic ingress decrypts to check a webhook's signature. */
interface GenericSecrets {
  signingSecret: string;
}

const genericAad = (id: string) => `integration:${id}`;

export interface GenericIntegrationFields {
  name: string;
  processingMethod: ProcessingMethod;
  settings: { forwardUrl?: string | undefined };
  enabled: boolean;
  signatureScheme: SignatureScheme;
  /** Chosen by the caller; without it one is generated. */
  signingSecret?: string | undefined;
}

/** A secret of the scheme's kind: `whsec_` + base64 for Standard Webhooks, any string for the body HMAC. */
const newSecret = (scheme: SignatureScheme) =>
  scheme === 'standard-webhooks' ? generateSigningSecret() : randomBytes(32).toString('base64url');

export async function createGenericIntegration(
  deps: IntegrationStoreDeps,
  fields: GenericIntegrationFields,
): Promise<{ row: IntegrationRow; generatedSecret?: string }> {
  const id = randomUUID();
  const generated = fields.signingSecret === undefined;
  const signingSecret = fields.signingSecret ?? newSecret(fields.signatureScheme);
  const row = await insertIntegration(deps.db, {
    id,
    provider: 'generic',
    name: fields.name,
    processing_method: fields.processingMethod,
    settings: fields.settings,
    secrets_enc: deps.secrets.encryptJson({ signingSecret } satisfies GenericSecrets, genericAad(id)),
    enabled: fields.enabled,
    signature_scheme: fields.signatureScheme,
  });
  return generated ? { row, generatedSecret: signingSecret } : { row };
}

export type GenericIntegrationPatch = {
  [K in keyof GenericIntegrationFields]?: GenericIntegrationFields[K] | undefined;
};

/**
 * Applies the fields given; a new signing secret replaces the stored one. Switching to Standard
 * Webhooks without one generates a `whsec_` secret (a body-HMAC secret is not one), returned once.
 * Undefined when the integration is gone.
 */
export async function updateGenericIntegration(
  deps: IntegrationStoreDeps,
  existing: IntegrationRow,
  fields: GenericIntegrationPatch,
): Promise<{ row: IntegrationRow | undefined; generatedSecret?: string }> {
  const id = existing.id;
  const switchedToStandard =
    fields.signatureScheme === 'standard-webhooks' && existing.signature_scheme !== 'standard-webhooks';
  const generatedSecret = switchedToStandard && !fields.signingSecret ? generateSigningSecret() : undefined;
  const signingSecret = fields.signingSecret || generatedSecret;
  const row = await updateIntegration(deps.db, id, {
    name: fields.name,
    processing_method: fields.processingMethod,
    settings: fields.settings,
    enabled: fields.enabled,
    signature_scheme: fields.signatureScheme,
    secrets_enc: signingSecret
      ? deps.secrets.encryptJson({ signingSecret } satisfies GenericSecrets, genericAad(id))
      : undefined,
  } as Parameters<typeof updateIntegration>[2]);
  return generatedSecret === undefined ? { row } : { row, generatedSecret };
}

/** Deletes an integration of any provider; false when there was none. */
export const removeIntegration = (db: Queryable, id: string): Promise<boolean> => deleteIntegration(db, id);
