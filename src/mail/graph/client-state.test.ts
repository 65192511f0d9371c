import { redactClientState } from './client-state';

test('every clientState in a notification is redacted, other bytes kept as sent', () => {
  const body =
    '{"value":[{"subscriptionId":"s1","clientState":"top-secret-1","changeType":"created"},{"clientState" : "top\\"secret-2"}]}';
  const out = redactClientState(Buffer.from(body)).toString('utf8');
  expect(out).not.toMatch(/top/);
  expect(out).toContain('"subscriptionId":"s1"');
  expect(JSON.parse(out).value[0].clientState).toBe('[redacted]');
});

test('escaped key spellings and non-JSON bodies are redacted too', () => {
  const escaped = redactClientState(Buffer.from('{"value":[{"client\\u0053tate":"top-secret"}]}')).toString('utf8');
  expect(escaped).not.toContain('top-secret');
  const broken = redactClientState(Buffer.from('{"value":[{"clientState":"top-secret", oops')).toString('utf8');
  expect(broken).not.toContain('top-secret');
  const binary = Buffer.concat([
    Buffer.from('{"clientState":"top-secret","x":"'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}'),
  ]);
  const redacted = redactClientState(binary);
  expect(redacted.toString('latin1')).not.toContain('top-secret');
  expect(redacted.includes(Buffer.from([0xff, 0xfe]))).toBe(true);
});
