import { ProviderRequestError, type ProviderCaller } from '../provider-types';

/**
 * Fetches up to 30 entities of one type in one call with the query language
 * (`select * from Invoice where Id in ('1','2')`). Ids are digits only — the ingress checks —
 * so they can be quoted into the query safely.
 */
export async function fetchQuickBooksResources(
  call: ProviderCaller,
  realmId: string,
  entity: string,
  ids: string[],
  minorVersion: number,
): Promise<Map<string, Record<string, unknown>>> {
  if (!/^[A-Za-z]{1,50}$/.test(entity) || ids.some((id) => !/^\d{1,30}$/.test(id))) {
    throw new ProviderRequestError(`refusing to query ${entity} with non-numeric ids`);
  }
  const query = `select * from ${entity} where Id in (${ids.map((id) => `'${id}'`).join(',')}) maxresults 1000`;
  const res = await call({
    method: 'GET',
    path: `/v3/company/${realmId}/query`,
    query: { query, minorversion: String(minorVersion) },
    headers: { accept: 'application/json' },
  });
  if (res.status !== 200) {
    throw new ProviderRequestError(
      `QuickBooks answered ${res.status} to the ${entity} query: ${res.body.slice(0, 300)}`,
      res.status,
    );
  }
  let body: { QueryResponse?: Record<string, unknown> };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    throw new ProviderRequestError(
      `QuickBooks' answer to the ${entity} query is not JSON${res.bodyTruncated ? ' (truncated)' : ''}`,
    );
  }
  if (!body.QueryResponse) throw new ProviderRequestError("QuickBooks' answer has no QueryResponse");
  const list = body.QueryResponse[entity];
  const out = new Map<string, Record<string, unknown>>();
  if (Array.isArray(list)) {
    for (const item of list as Array<Record<string, unknown>>) {
      if (typeof item['Id'] === 'string') out.set(item['Id'], item);
    }
  }
  return out;
}
