import express, { type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { findApiClientByClientId, hitRateLimitWindow, type ApiClientRow } from '../platform/security/api-clients';
import type { Db } from '../platform/db/pool';
import { clientForCredential, credentialHash, issueAccessToken } from '../platform/security/api-credentials';
import { safeEqual } from '../platform/security/compare';
import {
  addressLimit,
  alreadyOverLimit,
  countAndCheck,
  DEFAULT_ABUSE_LIMITS,
  type AbuseLimits,
} from '../platform/http/abuse-limits';
import {
  checkJsonValue,
  declaredTooLarge,
  decodeComponentStrict,
  decodeUtf8Strict,
  DEFAULT_INPUT_LIMITS,
  jsonBody,
} from '../platform/http/input-boundary';
import { HttpError, parseOr400 } from './errors';

function tooManyOauth(res: Response, what: string, retryAfterSeconds: number): void {
  res
    .status(429)
    .set({ 'Cache-Control': 'no-store', 'Retry-After': String(retryAfterSeconds) })
    .json({
      error: 'rate_limited',
      error_description: `Too many ${what} from this address; retry in ${retryAfterSeconds} s`,
    });
}

declare module 'express-serve-static-core' {
  interface Request {
    apiClient?: ApiClientRow;
  }
}

export interface AuthOptions {
  db: Db;
  tokenTtlSeconds: number;
  rateLimit: { requests: number; windowSeconds: number };
  /** Per source address: failed authentications and token requests. */
  abuse?: AbuseLimits;
}

const tooMany = (what: string, retryAfterSeconds: number) =>
  new HttpError(429, 'rate_limited', `Too many ${what} from this address; retry in ${retryAfterSeconds} s`, undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

const unauthorized = (message: string) =>
  new HttpError(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer realm="switchyard"' });

/**
 * Requires a bearer API key or access token on every request, then counts it against the
 * client's rate limit. A failed authentication counts against the source address; past the
 * limit, attempts without a valid credential get 429 until the window turns. A valid credential
 * always passes: behind a shared proxy address (or a NAT) one client's guessing must not lock
 * every other caller out, and keys and tokens are 256-bit random values that no number of
 * attempts guesses.
 */
export function requireApiAuth({ db, rateLimit, abuse = DEFAULT_ABUSE_LIMITS }: AuthOptions): RequestHandler {
  const authFailures = addressLimit(abuse, 'auth_failure');
  return async (req, res, next) => {
    const refuse = async (message: string) => {
      const blocked = await alreadyOverLimit(db, authFailures, req.ip);
      if (!blocked.allowed) return next(tooMany('failed authentications', blocked.retryAfterSeconds));
      await countAndCheck(db, authFailures, req.ip);
      next(unauthorized(message));
    };
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return refuse('Send an API key or access token as "Authorization: Bearer <token>"');
    const client = await clientForCredential(db, match[1]!);
    if (!client) return refuse('The credential is unknown, expired or revoked');
    req.apiClient = client;

    if (rateLimit.requests > 0) {
      const { count, resetsAt } = await hitRateLimitWindow(db, client.id, rateLimit.windowSeconds);
      const remaining = Math.max(0, rateLimit.requests - count);
      const resetSeconds = Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000));
      res.set({
        'RateLimit-Limit': String(rateLimit.requests),
        'RateLimit-Remaining': String(remaining),
        'RateLimit-Reset': String(resetSeconds),
      });
      if (count > rateLimit.requests) {
        return next(
          new HttpError(
            429,
            'rate_limited',
            `Rate limit of ${rateLimit.requests} requests per ${rateLimit.windowSeconds} s exceeded; retry in ${resetSeconds} s`,
            undefined,
            { 'Retry-After': String(resetSeconds) },
          ),
        );
      }
    }
    next();
  };
}

const tokenRequest = z.object({
  grant_type: z.literal('client_credentials', { error: 'grant_type must be client_credentials' }),
  client_id: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
  scope: z.string().optional(),
  tenant: z.string().optional(),
});

/** The OAuth2 token endpoint (client credentials), answered in RFC 6749's shapes. */
export function tokenRouter({ db, tokenTtlSeconds, abuse = DEFAULT_ABUSE_LIMITS }: AuthOptions): Router {
  const tokenRequests = addressLimit(abuse, 'token_request');
  const authFailures = addressLimit(abuse, 'auth_failure');
  const router = express.Router();
  router.post(
    '/',
    // Counted before the body is read: the cheapest refusal comes first.
    async (req, res, next) => {
      const requests = await countAndCheck(db, tokenRequests, req.ip);
      if (!requests.allowed) return tooManyOauth(res, 'token requests', requests.retryAfterSeconds);
      next();
    },
    declaredTooLarge(16 * 1024),
    express.urlencoded({ extended: false, limit: '16kb' }),
    jsonBody({ limitBytes: 16 * 1024, limits: DEFAULT_INPUT_LIMITS }),
    async (req, res) => {
      // Like the admin API: a refused request from an address past the failure limit is 429, a
      // client with the right secret is answered whatever its address did.
      const oauthError = async (status: number, error: string, description: string) => {
        const failures = await alreadyOverLimit(db, authFailures, req.ip);
        if (!failures.allowed) return tooManyOauth(res, 'failed authentications', failures.retryAfterSeconds);
        if (status === 401 || error === 'invalid_client') {
          await countAndCheck(db, authFailures, req.ip);
        }
        res.status(status).set('Cache-Control', 'no-store').json({ error, error_description: description });
      };
      // Form bodies bypass the JSON boundary: NUL in a field would reach PostgreSQL.
      const problem = checkJsonValue(req.body ?? {}, DEFAULT_INPUT_LIMITS);
      if (problem) return oauthError(400, 'invalid_request', problem.message);
      const parsed = tokenRequest.safeParse(req.body ?? {});
      if (!parsed.success) {
        return oauthError(400, 'unsupported_grant_type', parsed.error.issues.map((i) => i.message).join('; '));
      }
      let { client_id: clientId, client_secret: clientSecret } = parsed.data;
      const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
      if (basic) {
        // RFC 6749 §2.3.1: client id and secret are form-urlencoded inside the Basic credentials.
        const text = decodeUtf8Strict(Buffer.from(basic[1]!, 'base64'));
        const sep = text.ok ? text.value.indexOf(':') : -1;
        const id = text.ok && sep > 0 ? decodeComponentStrict(text.value.slice(0, sep)) : undefined;
        const secret = text.ok && sep > 0 ? decodeComponentStrict(text.value.slice(sep + 1)) : undefined;
        if (!id?.ok || !secret?.ok) {
          return oauthError(
            400,
            'invalid_request',
            'The Basic credentials must be "<client_id>:<client_secret>", each form-urlencoded',
          );
        }
        clientId = id.value;
        clientSecret = secret.value;
      }
      if (!clientId || !clientSecret)
        return oauthError(400, 'invalid_request', 'client_id and client_secret are required');
      const client = await findApiClientByClientId(db, clientId);
      if (
        !client ||
        client.kind !== 'application' ||
        client.disabled ||
        !safeEqual(client.secret_hash, credentialHash(clientSecret))
      ) {
        return oauthError(401, 'invalid_client', 'Unknown client or wrong secret');
      }
      const token = await issueAccessToken(db, client.id, tokenTtlSeconds);
      res.set('Cache-Control', 'no-store').json({
        access_token: token,
        token_type: 'Bearer',
        expires_in: tokenTtlSeconds,
        scope: client.scope,
      });
    },
  );
  return router;
}

export { parseOr400 };
