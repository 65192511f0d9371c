import express, { type Router } from 'express';
import { z } from 'zod';
import {
  getIntegration,
  listIntegrations,
  type IntegrationRow,
  type SignatureScheme,
} from '../../incoming/db/integrations';
import { isValidSigningSecret } from '../../platform/security/webhook-signing';
import type { Db } from '../../platform/db/pool';
import type { SecretBox } from '../../platform/security/secret-box';
import { assertSafeUrl, BlockedDestinationError, type DestinationPolicy } from '../../platform/http/safe-request';
import { HttpError, parseOr400 } from '../errors';
import type { ConnectDeps } from '../../incoming/provider-connect';
import { integrationCatchUpRoute, type CatchUpDeps } from './integrations-catch-up';
import { integrationConnectRoutes } from './integrations-connect';
import { createFromRequest, providerCreateSchemas, updateFromRequest } from './integrations-providers';
import {
  createGenericIntegration,
  removeIntegration,
  updateGenericIntegration,
} from '../../incoming/integration-service';

const uuid = z.uuid({ error: 'must be a UUID' });

const genericSettings = z.object({ forwardUrl: z.url().optional() }).strict();

const signatureScheme = z
  .enum(['standard-webhooks', 'body-hmac'])
  .describe(
    'standard-webhooks (default): webhook-id, webhook-timestamp, webhook-signature; body-hmac: x-switchyard-signature over the body alone, for existing senders',
  );

const createGeneric = z
  .object({
    provider: z.literal('generic'),
    name: z.string().trim().min(1).max(200),
    processingMethod: z.enum(['default', 'service_immediate']).default('default'),
    signatureScheme: signatureScheme.default('standard-webhooks'),
    signingSecret: z.string().min(16, { error: 'must be at least 16 characters' }).max(512).optional(),
    settings: genericSettings.default({}),
    enabled: z.boolean().default(true),
  })
  .strict();

export const updateGeneric = createGeneric
  .omit({ provider: true })
  .extend({ signatureScheme: signatureScheme.optional() })
  .partial()
  .strict();

/** A Standard Webhooks integration's secret must be one the spec's senders can use. */
function checkSigningSecret(scheme: SignatureScheme, secret: string | undefined) {
  if (scheme === 'standard-webhooks' && secret !== undefined && !isValidSigningSecret(secret)) {
    throw new HttpError(
      400,
      'invalid_signing_secret',
      'signingSecret: Standard Webhooks needs "whsec_" followed by base64 of 24 to 64 bytes',
    );
  }
}

export const createAny = z.discriminatedUnion('provider', [createGeneric, ...providerCreateSchemas]);

export function presentIntegration(row: IntegrationRow, publicBaseUrl: string) {
  return {
    id: row.id,
    provider: row.provider,
    name: row.name,
    processingMethod: row.processing_method,
    settings: row.settings,
    ...(row.provider === 'generic' ? { signatureScheme: row.signature_scheme ?? 'standard-webhooks' } : {}),
    enabled: row.enabled,
    hasSigningSecret: true,
    ingressUrl: `${publicBaseUrl}/hooks/${row.provider}/${row.id}`,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

interface Deps {
  db: Db;
  secrets: SecretBox;
  publicBaseUrl: string;
  outbound: DestinationPolicy;
  connect: ConnectDeps;
  catchUp: CatchUpDeps;
}

function checkForwardUrl(settings: { forwardUrl?: string | undefined }, policy: DestinationPolicy) {
  if (!settings.forwardUrl) return;
  try {
    assertSafeUrl(settings.forwardUrl, policy);
  } catch (err) {
    if (err instanceof BlockedDestinationError) {
      throw new HttpError(400, 'blocked_destination', `settings.forwardUrl: ${err.message}`);
    }
    throw err;
  }
}

export function integrationsRouter({ db, secrets, publicBaseUrl, outbound, connect, catchUp }: Deps): Router {
  const router = express.Router();
  integrationConnectRoutes(router, connect);
  integrationCatchUpRoute(router, catchUp);

  router.get('/', async (_req, res) => {
    const rows = await listIntegrations(db);
    res.json({ data: rows.map((r) => presentIntegration(r, publicBaseUrl)) });
  });

  router.post('/', async (req, res) => {
    const body = parseOr400(createAny, req.body);
    if (body.provider !== 'generic') {
      const row = await createFromRequest({ db, secrets, outbound: connect.policy }, body);
      res.status(201).json(presentIntegration(row, publicBaseUrl));
      return;
    }
    checkForwardUrl(body.settings, outbound);
    checkSigningSecret(body.signatureScheme, body.signingSecret);
    const { row, generatedSecret } = await createGenericIntegration({ db, secrets }, body);
    // A secret we generated is shown exactly once, here; one the caller chose is never echoed.
    res.status(201).json({
      ...presentIntegration(row, publicBaseUrl),
      ...(generatedSecret !== undefined ? { signingSecret: generatedSecret } : {}),
    });
  });

  router.get('/:id', async (req, res) => {
    const id = parseOr400(uuid, req.params.id, 'integration id');
    const row = await getIntegration(db, id);
    if (!row) throw new HttpError(404, 'integration_not_found', `No integration ${id}`);
    res.json(presentIntegration(row, publicBaseUrl));
  });

  router.patch('/:id', async (req, res) => {
    const id = parseOr400(uuid, req.params.id, 'integration id');
    const existing = await getIntegration(db, id);
    if (!existing) throw new HttpError(404, 'integration_not_found', `No integration ${id}`);
    if (existing.provider !== 'generic') {
      const row = await updateFromRequest({ db, secrets, outbound: connect.policy }, existing, req.body);
      res.json(presentIntegration(row, publicBaseUrl));
      return;
    }
    const body = parseOr400(updateGeneric, req.body);
    if (body.settings) checkForwardUrl(body.settings, outbound);
    checkSigningSecret(body.signatureScheme ?? existing.signature_scheme ?? 'standard-webhooks', body.signingSecret);
    const { row, generatedSecret } = await updateGenericIntegration({ db, secrets }, existing, body);
    if (!row) throw new HttpError(404, 'integration_not_found', `No integration ${id}`);
    res.json({
      ...presentIntegration(row, publicBaseUrl),
      ...(generatedSecret !== undefined ? { signingSecret: generatedSecret } : {}),
    });
  });

  router.delete('/:id', async (req, res) => {
    const id = parseOr400(uuid, req.params.id, 'integration id');
    if (!(await removeIntegration(db, id))) throw new HttpError(404, 'integration_not_found', `No integration ${id}`);
    res.status(204).end();
  });

  return router;
}
