/**
 * The QuickBooks Online Accounting API (v3) under `/v3/company/{realmId}`: entity reads, the
 * query endpoint (GET, or POST with an `application/text` body), `/batch` and `/cdc`.
 */
import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { Clock } from '../rate-limiter';
import { batchHandler } from './batch';
import { cdcHandler, queryParam } from './cdc';
import type { CompanyTime } from './company-time';
import { objectNotFound, validationFault } from './errors';
import { entityMap, type QuickBooksLedger, type RealmData } from './ledger';
import { runQuery } from './query-language';
import type { QuickBooksEntityName } from './resources';

export type QuickBooksApiHandler = (req: Request, res: Response, data: RealmData) => void;

export interface AccountingRouteDeps {
  ledger: QuickBooksLedger;
  time: CompanyTime;
  now: Clock;
  maxBatchItems: () => number;
  countBatchItems: (n: number) => void;
  cdcMaxDays: number;
  cdcMaxObjects: number;
  /** Wraps a handler in the API pipeline; batches count against their own allowance too. */
  route: (endpoint: string, handler: QuickBooksApiHandler, isBatch?: boolean) => RequestHandler;
}

/** Mounts the company routes on the emulator's app. */
export function mountAccountingRoutes(app: express.Express, deps: AccountingRouteDeps): void {
  const { route, time } = deps;
  const readEntity =
    (entity: QuickBooksEntityName): QuickBooksApiHandler =>
    (req, res, data) => {
      const stored = entityMap(data, entity).get(String(req.params['id'] ?? ''));
      if (!stored) throw objectNotFound();
      res.json({ [entity]: structuredClone(stored.value), time: time.response() });
    };
  const query: QuickBooksApiHandler = (req, res, data) => {
    const text = typeof req.body === 'string' && req.body.trim() !== '' ? req.body : queryParam(req.query, 'query');
    if (text === undefined) throw validationFault('Error parsing query', 'QueryParserError: query is missing', '4000');
    res.json({ QueryResponse: runQuery(data, text), time: time.response() });
  };
  const batch = batchHandler({
    ledger: deps.ledger,
    time,
    maxItems: deps.maxBatchItems,
    countItems: deps.countBatchItems,
  });
  const cdc = cdcHandler({ now: deps.now, time, maxDays: deps.cdcMaxDays, maxObjects: deps.cdcMaxObjects });

  const company = '/v3/company/:realmId';
  const textBody = express.text({ type: ['application/text', 'text/plain'], limit: '100kb' });
  app.get(`${company}/invoice/:id`, route('GET /invoice/{id}', readEntity('Invoice')));
  app.get(`${company}/customer/:id`, route('GET /customer/{id}', readEntity('Customer')));
  app.get(`${company}/query`, route('GET /query', query));
  app.post(`${company}/query`, textBody, route('POST /query', query));
  app.post(`${company}/batch`, express.json({ limit: '2mb' }), route('POST /batch', batch, true));
  app.get(`${company}/cdc`, route('GET /cdc', cdc));
}
