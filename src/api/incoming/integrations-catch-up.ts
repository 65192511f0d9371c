import type { Router } from 'express';
import { z } from 'zod';
import { getIntegration } from '../../incoming/db/integrations';
import { findProviderTokens } from '../../incoming/db/provider-tokens';
import { providerCaller, type ProviderRuntime } from '../../incoming/provider-http';
import { ProviderRateLimitedError, ProviderRequestError } from '../../incoming/provider-types';
import { providerSecrets, resolveProvider } from '../../incoming/providers';
import { CDC_MAX_DAYS, fetchChanges } from '../../incoming/quickbooks/cdc';
import type { QuickBooksSettings } from '../../incoming/quickbooks/settings';
import { HttpError, parseOr400 } from '../errors';
import { acceptProviderEvents, type ProviderIntakeDeps } from '../../incoming/provider-intake';

/**
 * `POST /api/v1/integrations/:id/catch-up` — QuickBooks CDC after a gap (an outage, a webhook
 * endpoint that was down longer than Intuit retries, a realm connected late). Every change since
 * `since` (default: the newest event already received for the realm, less a minute's overlap;
 * a day back when none) becomes an incoming webhook processed the ordinary way, so changes
 * already processed end as `stale` and nothing is emitted twice. Run it by hand or on a
 * schedule (cron calling the API); the answer says whether more changes are waiting.
 */

export const catchUpBody = z
  .object({
    since: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
    realmId: z
      .string()
      .regex(/^\d{1,30}$/, { error: 'must be a numeric realm id' })
      .optional(),
  })
  .strict();

const OVERLAP_MS = 60_000;
const DEFAULT_BACK_MS = 86_400_000;
// A minute inside QuickBooks' 30 days, so the request is not refused for being a moment too old.
const MAX_BACK_MS = CDC_MAX_DAYS * 86_400_000 - 60_000;

export interface CatchUpDeps {
  ingress: ProviderIntakeDeps;
  runtime: ProviderRuntime;
}

export function integrationCatchUpRoute(router: Router, deps: CatchUpDeps): void {
  const { db } = deps.ingress;
  router.post('/:id/catch-up', async (req, res) => {
    const id = parseOr400(z.uuid({ error: 'must be a UUID' }), req.params['id'], 'integration id');
    const body = parseOr400(catchUpBody, req.body ?? {});
    const integration = await getIntegration(db, id);
    if (!integration) throw new HttpError(404, 'integration_not_found', `No integration ${id}`);
    if (integration.provider !== 'quickbooks') {
      throw new HttpError(
        409,
        'not_supported',
        'Catch-up uses QuickBooks change data capture; it applies to QuickBooks integrations',
      );
    }
    const { settings } = resolveProvider(integration);
    const qbo = settings as QuickBooksSettings;
    // The realm named, else the connected one, else the only one configured or seen in webhooks.
    let realmId = body.realmId ?? (await findProviderTokens(db, id))?.connected_tenant_id ?? undefined;
    if (!realmId && qbo.realmIds?.length === 1) realmId = qbo.realmIds[0];
    if (!realmId) {
      const seen = await db.query<{ tenant_id: string }>(
        'SELECT DISTINCT tenant_id FROM incoming_webhooks WHERE integration_id = $1 AND tenant_id IS NOT NULL LIMIT 2',
        [id],
      );
      if (seen.rows.length === 1) realmId = seen.rows[0]!.tenant_id;
    }
    if (!realmId)
      throw new HttpError(
        400,
        'realm_required',
        'Name the realmId to catch up: the integration is bound to no single realm',
      );

    const now = Date.now();
    let since: number;
    if (body.since) {
      since = Date.parse(body.since);
    } else {
      const { rows } = await db.query<{ last: Date | null }>(
        'SELECT max(event_at) AS last FROM incoming_webhooks WHERE integration_id = $1 AND tenant_id = $2',
        [id, realmId],
      );
      since = rows[0]?.last ? rows[0].last.getTime() - OVERLAP_MS : now - DEFAULT_BACK_MS;
    }
    if (since > now) throw new HttpError(400, 'validation_failed', 'since is in the future');
    const clamped = since < now - MAX_BACK_MS;
    if (clamped) since = now - MAX_BACK_MS;

    const caller = providerCaller(
      deps.runtime,
      integration,
      settings,
      providerSecrets(deps.ingress.secrets, integration),
      realmId,
    );
    let changes;
    try {
      changes = await fetchChanges(caller, realmId, settings.entityTypes, new Date(since), qbo.minorVersion);
    } catch (err) {
      if (err instanceof ProviderRateLimitedError) {
        throw new HttpError(429, 'provider_rate_limited', err.message, undefined, {
          'retry-after': String(Math.ceil(err.retryAfterMs / 1000)),
        });
      }
      if (err instanceof ProviderRequestError) throw new HttpError(502, 'provider_error', err.message);
      throw new HttpError(
        502,
        'provider_unreachable',
        `QuickBooks could not be asked for changes: ${(err as Error).message}`,
      );
    }
    const stored = await acceptProviderEvents(deps.ingress, integration, changes.events);
    res.status(202).json({
      realmId,
      since: new Date(since).toISOString(),
      sinceClamped: clamped,
      changes: changes.events.length,
      ...stored,
      moreAfter: changes.truncated && changes.newest ? changes.newest.toISOString() : null,
    });
  });
}
