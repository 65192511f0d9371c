import type { SecretBox } from '../platform/security/secret-box';
import type { SigningKey } from '../platform/security/webhook-signing';
import type { AuthSecret } from './webhook-config';

/** Everything secret about a webhook, encrypted as one value bound to the webhook's id. */
export interface WebhookSecrets {
  auth: AuthSecret;
  signing: SigningKey[];
}

export const webhookSecretsAad = (webhookId: string) => `webhook:${webhookId}`;

export const sealWebhookSecrets = (box: SecretBox, webhookId: string, s: WebhookSecrets) =>
  box.encryptJson(s, webhookSecretsAad(webhookId));

export const openWebhookSecrets = (box: SecretBox, webhookId: string, enc: string) =>
  box.decryptJson<WebhookSecrets>(enc, webhookSecretsAad(webhookId));
