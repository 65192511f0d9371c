import { createCipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  generateMasterKey,
  loadMasterKey,
  parseMasterKey,
  SecretBox,
  SecretBoxError,
} from '../../src/platform/security/secret-box';

const box = new SecretBox(randomBytes(32));

test('round-trips and never stores the plaintext', () => {
  const c = box.encrypt('client-secret-value', 'integration:1');
  expect(c).toMatch(new RegExp(`^v2:${box.keyId}:`));
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
  expect(() => box.decrypt('v2:only-two')).toThrow(/unrecognised/);
  expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
});

test('keys carry an id: given as "id:key", or the fingerprint of a bare key, the same in every process', () => {
  const raw = randomBytes(32).toString('base64');
  expect(parseMasterKey(`k2026:${raw}`).id).toBe('k2026');
  expect(parseMasterKey(raw).id).toBe(parseMasterKey(raw).id);
  expect(parseMasterKey(raw).id).toMatch(/^k[0-9a-f]{8}$/);
  expect(() => parseMasterKey('bad id!:' + raw)).toThrow(/id must be/);
  expect(() => parseMasterKey('k1:c2hvcnQ=')).toThrow(/32 random bytes/);
  expect(generateMasterKey('next')).toMatch(/^next:[A-Za-z0-9+/]{43}=$/);
});

test('during a rotation the previous key still reads what it wrote; the new one encrypts', () => {
  const oldKey = generateMasterKey('old');
  const newKey = generateMasterKey('new');
  const before = SecretBox.fromBase64(oldKey).encrypt('refresh-token', 'a');
  const both = SecretBox.fromBase64(newKey, oldKey);
  expect(both.decrypt(before, 'a')).toBe('refresh-token');
  expect(both.isCurrent(before)).toBe(false);
  const after = both.encrypt('refresh-token', 'a');
  expect(SecretBox.keyIdOf(after)).toBe('new');
  expect(both.isCurrent(after)).toBe(true);
  // Once the old key is dropped, only what was re-encrypted can be read; the error names the settings.
  expect(SecretBox.fromBase64(newKey).decrypt(after, 'a')).toBe('refresh-token');
  expect(() => SecretBox.fromBase64(newKey).decrypt(before, 'a')).toThrow(/"old".*SWITCHYARD_PREVIOUS_KEYS/);
});

test('ciphertexts from before key ids (v1:) stay readable with the key that made them', () => {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from('integration:1'));
  const body = Buffer.concat([cipher.update('legacy', 'utf8'), cipher.final()]);
  const legacy = `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  expect(new SecretBox(key).decrypt(legacy, 'integration:1')).toBe('legacy');
  // As a previous key too: a rotation re-encrypts these.
  const rotated = new SecretBox(randomBytes(32), [{ id: 'old', key }]);
  expect(rotated.decrypt(legacy, 'integration:1')).toBe('legacy');
  expect(rotated.isCurrent(legacy)).toBe(false);
});

test('the embedded default generates an owner-only master key once and reuses it; elsewhere a missing key names the setting', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-key-'));
  const first = loadMasterKey({ fromEnv: undefined, dataDir: dir, mode: 'embedded' });
  expect(Buffer.from(first, 'base64')).toHaveLength(32);
  expect(fs.statSync(path.join(dir, 'master.key')).mode & 0o777).toBe(0o600);
  expect(loadMasterKey({ fromEnv: undefined, dataDir: dir, mode: 'embedded' })).toBe(first);
  expect(loadMasterKey({ fromEnv: undefined, dataDir: dir, mode: 'file-ok' })).toBe(first);
  expect(loadMasterKey({ fromEnv: 'from-env', dataDir: dir, mode: 'required' })).toBe('from-env');
  // The API and the worker on their own never read or make a key file: split processes would disagree.
  expect(() => loadMasterKey({ fromEnv: undefined, dataDir: dir, mode: 'required' })).toThrow(
    /SWITCHYARD_MASTER_KEY is not set/,
  );
  expect(() => loadMasterKey({ fromEnv: undefined, dataDir: path.join(dir, 'none'), mode: 'file-ok' })).toThrow(
    /SWITCHYARD_MASTER_KEY/,
  );
  expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
  fs.rmSync(dir, { recursive: true, force: true });
});
