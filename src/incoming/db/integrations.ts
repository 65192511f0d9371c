import type { Queryable } from '../../platform/db/pool';
import { ShortCache } from '../../platform/security/short-cache';

export type Provider = 'generic' | 'xero' | 'quickbooks';

/** How a generic integration's webhooks are signed; null for the providers, which have their own. */
export type SignatureScheme = 'standard-webhooks' | 'body-hmac';

export interface IntegrationRow {
  id: string;
  provider: Provider;
  name: string;
  processing_method: string;
  settings: Record<string, unknown>;
  secrets_enc: string;
  signature_scheme: SignatureScheme | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export async function insertIntegration(
  db: Queryable,
  row: Pick<IntegrationRow, 'id' | 'provider' | 'name' | 'processing_method' | 'settings' | 'secrets_enc' | 'enabled'> &
    Partial<Pick<IntegrationRow, 'signature_scheme'>>,
): Promise<IntegrationRow> {
  const { rows } = await db.query<IntegrationRow>(
    `INSERT INTO integrations (id, provider, name, processing_method, settings, secrets_enc, enabled, signature_scheme)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [
      row.id,
      row.provider,
      row.name,
      row.processing_method,
      row.settings,
      row.secrets_enc,
      row.enabled,
      row.signature_scheme ?? null,
    ],
  );
  return rows[0]!;
}

export async function updateIntegration(
  db: Queryable,
  id: string,
  patch: Partial<
    Pick<IntegrationRow, 'name' | 'processing_method' | 'settings' | 'secrets_enc' | 'enabled' | 'signature_scheme'>
  >,
): Promise<IntegrationRow | undefined> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return getIntegration(db, id);
  const sets = entries.map(([k], i) => `${k} = $${i + 2}`);
  const { rows } = await db.query<IntegrationRow>(
    `UPDATE integrations SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
    [id, ...entries.map(([, v]) => v)],
  );
  forIngress.forget(id);
  return rows[0];
}

export async function getIntegration(db: Queryable, id: string): Promise<IntegrationRow | undefined> {
  const { rows } = await db.query<IntegrationRow>('SELECT * FROM integrations WHERE id = $1', [id]);
  return rows[0];
}

export async function listIntegrations(db: Queryable): Promise<IntegrationRow[]> {
  const { rows } = await db.query<IntegrationRow>('SELECT * FROM integrations ORDER BY created_at, id');
  return rows;
}

export async function deleteIntegration(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM integrations WHERE id = $1', [id]);
  forIngress.forget(id);
  return (rowCount ?? 0) > 0;
}

/**
 * Ingress reads an integration on every webhook: this process keeps a found one for a second.
 * A change made through this module is seen here at once (its entry is dropped), and by other
 * processes within the second; an unknown id is looked up every time.
 */
const forIngress = new ShortCache<IntegrationRow | undefined>(1000);

export async function getIntegrationForIngress(db: Queryable, id: string): Promise<IntegrationRow | undefined> {
  return forIngress.get(
    id,
    () => getIntegration(db, id),
    (row) => row !== undefined,
  );
}
