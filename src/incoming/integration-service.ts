import { randomBytes, randomUUID } from 'node:crypto';
import { deleteIntegration, insertIntegration, updateIntegration, type IntegrationRow } from './db/integrations';
import type { Queryable } from '../platform/db/pool';
import type { SecretBox } from '../platform/security/secret-box';
import type { ProcessingMethod } from './processing-methods';

/**
 * Storing generic integrations (HMAC-signed webhooks from any sender). The signing secret is
 * kept encrypted under the integration's id; one Switchyard generated is returned once, here.
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
  /** Chosen by the caller; without it one is generated. */
  signingSecret?: string | undefined;
}

export async function createGenericIntegration(
  deps: IntegrationStoreDeps,
  fields: GenericIntegrationFields,
): Promise<{ row: IntegrationRow; generatedSecret?: string }> {
  const id = randomUUID();
  const generated = fields.signingSecret === undefined;
  const signingSecret = fields.signingSecret ?? randomBytes(32).toString('base64url');
  const row = await insertIntegration(deps.db, {
    id,
    provider: 'generic',
    name: fields.name,
    processing_method: fields.processingMethod,
    settings: fields.settings,
    secrets_enc: deps.secrets.encryptJson({ signingSecret } satisfies GenericSecrets, genericAad(id)),
    enabled: fields.enabled,
  });
  return generated ? { row, generatedSecret: signingSecret } : { row };
}

export type GenericIntegrationPatch = {
  [K in keyof GenericIntegrationFields]?: GenericIntegrationFields[K] | undefined;
};

/** Applies the fields given; a new signing secret replaces the stored one. Undefined when the integration is gone. */
export async function updateGenericIntegration(
  deps: IntegrationStoreDeps,
  id: string,
  fields: GenericIntegrationPatch,
): Promise<IntegrationRow | undefined> {
  return updateIntegration(deps.db, id, {
    name: fields.name,
    processing_method: fields.processingMethod,
    settings: fields.settings,
    enabled: fields.enabled,
    secrets_enc: fields.signingSecret
      ? deps.secrets.encryptJson({ signingSecret: fields.signingSecret } satisfies GenericSecrets, genericAad(id))
      : undefined,
  } as Parameters<typeof updateIntegration>[2]);
}

/** Deletes an integration of any provider; false when there was none. */
export const removeIntegration = (db: Queryable, id: string): Promise<boolean> => deleteIntegration(db, id);
