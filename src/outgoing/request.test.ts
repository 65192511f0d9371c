import { Webhook } from 'standardwebhooks';
import { buildRequest, truncateUtf8 } from './request';
import { generateSigningSecret } from '../platform/security/webhook-signing';

const secret = generateSigningSecret();
const payload = JSON.stringify({ id: 'i', event: 'Ticket Changed', objectId: '7' });
const common = {
  deliveryId: 'd-1',
  url: 'https://example.com/hook',
  signingSecrets: [secret],
  payload,
  now: new Date(),
};

test('POST: JSON body, Standard Webhooks headers, credentials redacted in the log copy', () => {
  const { request, loggedHeaders } = buildRequest({
    ...common,
    method: 'POST',
    auth: { type: 'bearer' },
    authSecret: { token: 't0ken' },
  });
  expect(request.body).toBe(payload);
  expect(request.headers).toMatchObject({
    'content-type': 'application/json',
    'webhook-id': 'd-1',
    authorization: 'Bearer t0ken',
  });
  expect(new Webhook(secret).verify(payload, request.headers)).toMatchObject({ objectId: '7' });
  expect(loggedHeaders['authorization']).toBe('[redacted]');
  expect(loggedHeaders['webhook-signature']).toBe(request.headers['webhook-signature']);
});

test('basic and custom header authentication', () => {
  const basic = buildRequest({
    ...common,
    method: 'POST',
    auth: { type: 'basic', username: 'u' },
    authSecret: { password: 'p' },
  });
  expect(basic.request.headers['authorization']).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  const header = buildRequest({
    ...common,
    method: 'POST',
    auth: { type: 'header', name: 'X-Api-Key' },
    authSecret: { value: 'k' },
  });
  expect(header.request.headers['x-api-key']).toBe('k');
  expect(header.loggedHeaders['x-api-key']).toBe('[redacted]');
});

test('GET: envelope in the query string, which is what gets signed', () => {
  const { request } = buildRequest({ ...common, method: 'GET', auth: { type: 'none' }, authSecret: {} });
  expect(request.body).toBeUndefined();
  const url = new URL(request.url);
  expect(url.searchParams.get('objectId')).toBe('7');
  expect(() => new Webhook(secret).verify(url.search.slice(1), request.headers, { jsonParse: false })).not.toThrow();
});

test('truncation counts bytes and never splits a character', () => {
  expect(truncateUtf8('abc', 10)).toEqual({ text: 'abc', truncated: false });
  expect(truncateUtf8('ééé', 3)).toEqual({ text: 'é', truncated: true });
});
