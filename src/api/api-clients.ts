import express, { type Router } from 'express';
import { z } from 'zod';
import { getIntegration } from '../incoming/db/integrations';
import { API_SCOPES, listApiClients, type ApiClientRow } from '../platform/security/api-clients';
import type { Db } from '../platform/db/pool';
import {
  createApiApplication,
  createApiKey,
  revokeApiClient,
  type CredentialScope,
} from '../platform/security/api-credentials';
import { HttpError, parseOr400 } from './errors';

export const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(['application', 'api_key']),
    scope: z.enum(API_SCOPES).default('admin'),
    integrationId: z.uuid({ error: 'must be a UUID' }).optional(),
  })
  .strict();

const present = (c: ApiClientRow) => ({
  id: c.id,
  name: c.name,
  kind: c.kind,
  scope: c.scope,
  integrationId: c.integration_id,
  clientId: c.client_id,
  disabled: c.disabled,
  createdAt: c.created_at,
});

/** The scope a request asks for; an integration credential names an existing integration. */
async function requestedScope(db: Db, body: z.output<typeof createBody>): Promise<CredentialScope> {
  if (body.scope !== 'integration') {
    if (body.integrationId !== undefined)
      throw new HttpError(400, 'validation_failed', 'integrationId applies to the integration scope only');
    return { scope: body.scope };
  }
  if (body.integrationId === undefined)
    throw new HttpError(400, 'validation_failed', 'The integration scope needs integrationId');
  if (!(await getIntegration(db, body.integrationId)))
    throw new HttpError(400, 'integration_not_found', `No integration ${body.integrationId}`);
  return { scope: 'integration', integrationId: body.integrationId };
}

/**
 * API applications (client credentials) and API keys. Secrets are shown once, at creation. Only
 * admin credentials reach these routes (src/api/openapi-routes.ts), so no other scope can mint
 * a credential.
 */
export function apiClientsRouter({ db, tokenUrl }: { db: Db; tokenUrl: string }): Router {
  const router = express.Router();
  router.get('/', async (_req, res) => {
    res.json({ data: (await listApiClients(db)).map(present) });
  });
  router.post('/', async (req, res) => {
    const body = parseOr400(createBody, req.body);
    const scope = await requestedScope(db, body);
    if (body.kind === 'api_key') {
      const { client, apiKey } = await createApiKey(db, body.name, scope);
      return res.status(201).json({ ...present(client), apiKey });
    }
    const { client, clientSecret } = await createApiApplication(db, body.name, scope);
    res.status(201).json({ ...present(client), clientSecret, tokenUrl });
  });
  router.delete('/:id', async (req, res) => {
    const id = parseOr400(z.uuid(), req.params.id, 'API client id');
    if (req.apiClient?.id === id)
      throw new HttpError(409, 'cannot_delete_self', 'A client cannot delete its own credential');
    if (!(await revokeApiClient(db, id))) throw new HttpError(404, 'api_client_not_found', `No API client ${id}`);
    res.status(204).end();
  });
  return router;
}
