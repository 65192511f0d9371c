import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMasterKey, SecretBox, SecretBoxError } from '../../src/platform/security/secret-box';

const box = new SecretBox(randomBytes(32));

test('round-trips and never stores the plaintext', () => {
  const c = box.encrypt('client-secret-value', 'integration:1');
  expect(c).toMatch(/^v1:/);
  expect(c).not.toContain('client-secret-value');
  expect(box.decrypt(c, 'integration:1')).toBe('client-secret-value');
  expect(box.encrypt('same', 'a')).not.toBe(box.encrypt('same', 'a'));
});

test('a ciphertext bound to one owner cannot be read as another', () => {
  const c = box.encryptJson({ token: 't' }, 'integration:1');
  expect(() => box.decryptJson(c, 'integration:2')).toThrow(SecretBoxError);
});

test('a wrong key or tampered data is refused', () => {
  const c = box.encrypt('x');
  expect(() => new SecretBox(randomBytes(32)).decrypt(c)).toThrow(/could not be decrypted/);
  const tampered = `${c.slice(0, -4)}AAAA`;
  expect(() => box.decrypt(tampered)).toThrow(SecretBoxError);
  expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
});

test('the embedded default generates an owner-only master key once and reuses it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-key-'));
  const first = loadMasterKey({ fromEnv: undefined, dataDir: dir, allowGenerate: true });
  expect(Buffer.from(first, 'base64')).toHaveLength(32);
  expect(fs.statSync(path.join(dir, 'master.key')).mode & 0o777).toBe(0o600);
  expect(loadMasterKey({ fromEnv: undefined, dataDir: dir, allowGenerate: true })).toBe(first);
  expect(loadMasterKey({ fromEnv: 'from-env', dataDir: dir, allowGenerate: true })).toBe('from-env');
  expect(() => loadMasterKey({ fromEnv: undefined, dataDir: path.join(dir, 'none'), allowGenerate: false })).toThrow(
    /SWITCHYARD_MASTER_KEY/,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});
