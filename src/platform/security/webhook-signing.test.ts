import { Webhook } from 'standardwebhooks';
import {
  activeSecrets,
  generateSigningSecret,
  isValidSigningSecret,
  rotateKeys,
  sign,
  signatureHeader,
} from './webhook-signing';

test('a signature verifies with the standardwebhooks package', () => {
  const secret = generateSigningSecret();
  const now = new Date();
  const ts = Math.floor(now.getTime() / 1000);
  const body = JSON.stringify({ hello: 'world' });
  const headers = {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(ts),
    'webhook-signature': sign(secret, 'msg_1', ts, body),
  };
  expect(new Webhook(secret).verify(body, headers)).toEqual({ hello: 'world' });
  expect(sign(secret, 'msg_1', ts, body)).toBe(new Webhook(secret).sign('msg_1', now, body));
});

test('during rotation the header carries both signatures and either secret verifies', () => {
  const [a, b] = [generateSigningSecret(), generateSigningSecret()];
  const ts = Math.floor(Date.now() / 1000);
  const header = signatureHeader([b, a], 'msg_2', ts, '{}');
  expect(header.split(' ')).toHaveLength(2);
  for (const s of [a, b]) {
    expect(() =>
      new Webhook(s).verify('{}', {
        'webhook-id': 'msg_2',
        'webhook-timestamp': String(ts),
        'webhook-signature': header,
      }),
    ).not.toThrow();
  }
  expect(() =>
    new Webhook(generateSigningSecret()).verify('{}', {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(ts),
      'webhook-signature': header,
    }),
  ).toThrow();
});

test('secret format: whsec_ and 24 to 64 bytes', () => {
  expect(isValidSigningSecret(generateSigningSecret())).toBe(true);
  expect(isValidSigningSecret(`whsec_${Buffer.alloc(24, 1).toString('base64')}`)).toBe(true);
  expect(isValidSigningSecret(`whsec_${Buffer.alloc(16, 1).toString('base64')}`)).toBe(false);
  expect(isValidSigningSecret(`whsec_${Buffer.alloc(65, 1).toString('base64')}`)).toBe(false);
  expect(isValidSigningSecret(Buffer.alloc(32, 1).toString('base64'))).toBe(false);
  expect(isValidSigningSecret('whsec_not base64!')).toBe(false);
});

test('rotation keeps the old key for the grace period only', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const first = [{ secret: 'whsec_a', createdAt: t0.toISOString(), expiresAt: null }];
  const rotated = rotateKeys(first, 'whsec_b', 60, t0);
  expect(activeSecrets(rotated, t0)).toEqual(['whsec_b', 'whsec_a']);
  expect(activeSecrets(rotated, new Date(t0.getTime() + 61_000))).toEqual(['whsec_b']);
  // A second rotation inside the grace period never extends an older key's life.
  const again = rotateKeys(rotated, 'whsec_c', 3600, new Date(t0.getTime() + 30_000));
  expect(again.map((k) => k.secret)).toEqual(['whsec_c', 'whsec_b', 'whsec_a']);
  expect(again[2]!.expiresAt).toBe(new Date(t0.getTime() + 60_000).toISOString());
  expect(rotateKeys(rotated, 'whsec_d', 0, t0).map((k) => k.secret)).toEqual(['whsec_d']);
});
