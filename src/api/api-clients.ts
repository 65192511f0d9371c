import express, { type Router } from 'express';
import { z } from 'zod';
import { listApiClients, type ApiClientRow } from '../platform/security/api-clients';
import type { Db } from '../platform/db/pool';
import { createApiApplication, createApiKey, revokeApiClient } from '../platform/security/api-credentials';
import { HttpError, parseOr400 } from './errors';

export const createBody = z
  .object({ name: z.string().trim().min(1).max(200), kind: z.enum(['application', 'api_key']) })
  .strict();

const present = (c: ApiClientRow) => ({
  id: c.id,
  name: c.name,
  kind: c.kind,
  clientId: c.client_id,
  disabled: c.disabled,
  createdAt: c.created_at,
});

/** API applications (client credentials) and API keys. Secrets are shown once, at creation. */
export function apiClientsRouter({ db, tokenUrl }: { db: Db; tokenUrl: string }): Router {
  const router = express.Router();
  router.get('/', async (_req, res) => {
    res.json({ data: (await listApiClients(db)).map(present) });
  });
  router.post('/', async (req, res) => {
    const body = parseOr400(createBody, req.body);
    if (body.kind === 'api_key') {
      const { client, apiKey } = await createApiKey(db, body.name);
      return res.status(201).json({ ...present(client), apiKey });
    }
    const { client, clientSecret } = await createApiApplication(db, body.name);
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
