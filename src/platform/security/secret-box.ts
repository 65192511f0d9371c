import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

/** Encrypts secrets at rest with AES-256-GCM; ciphertexts are self-describing strings. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError('master key must be 32 bytes (base64 of 32 random bytes)');
    this.#key = key;
  }

  static fromBase64(value: string): SecretBox {
    return new SecretBox(Buffer.from(value, 'base64'));
  }

  /** `aad` binds a ciphertext to its owner (e.g. `integration:<id>`) so rows cannot be swapped. */
  encrypt(plaintext: string, aad = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(ciphertext: string, aad = ''): string {
    const [version, payload] = ciphertext.split(':', 2);
    if (version !== VERSION || !payload) throw new SecretBoxError('unrecognised ciphertext');
    const raw = Buffer.from(payload, 'base64');
    // The tag length is pinned: a truncated tag would otherwise be accepted and weaken the check.
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('secret could not be decrypted (wrong master key or tampered data)');
    }
  }

  encryptJson(value: unknown, aad = ''): string {
    return this.encrypt(JSON.stringify(value), aad);
  }

  decryptJson<T>(ciphertext: string, aad = ''): T {
    return JSON.parse(this.decrypt(ciphertext, aad)) as T;
  }
}

/**
 * The master key: from the environment when given, otherwise read from (or generated
 * into) `<dataDir>/master.key` with owner-only permissions — the embedded default.
 */
export function loadMasterKey(options: {
  fromEnv: string | undefined;
  dataDir: string;
  allowGenerate: boolean;
}): string {
  if (options.fromEnv) return options.fromEnv;
  const file = path.join(options.dataDir, 'master.key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  if (!options.allowGenerate) {
    throw new SecretBoxError(`SWITCHYARD_MASTER_KEY is not set and ${file} does not exist`);
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
