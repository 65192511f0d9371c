import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** `v1:<base64>`: written before keys had ids; still read (with every configured key) as the upgrade path. */
const LEGACY_VERSION = 'v1';
/** `v2:<key id>:<base64>`: the key id says which master key to decrypt with. */
const VERSION = 'v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

/** One master key and the id its ciphertexts carry. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

/** A key given without an id is named by its fingerprint, the same in every process that has it. */
const fingerprint = (key: Buffer) =>
  `k${createHash('sha256').update('switchyard-master-key-id:').update(key).digest('hex').slice(0, 8)}`;

/** `[<id>:]<base64 of 32 bytes>`, as SWITCHYARD_MASTER_KEY and each SWITCHYARD_PREVIOUS_KEYS entry are written. */
export function parseMasterKey(value: string): MasterKey {
  const text = value.trim();
  const colon = text.indexOf(':');
  const id = colon === -1 ? undefined : text.slice(0, colon);
  const b64 = colon === -1 ? text : text.slice(colon + 1);
  // Strict: Node's decoder would skip characters that are not base64 and accept a mangled list.
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (key.length !== 32)
    throw new SecretBoxError('a master key must be base64 of 32 random bytes, optionally "id:" first');
  if (id !== undefined && !KEY_ID_RE.test(id))
    throw new SecretBoxError('a master key id must be 1-32 of [A-Za-z0-9_-]');
  return { id: id ?? fingerprint(key), key };
}

/** A comma-separated list of keys (SWITCHYARD_PREVIOUS_KEYS); empty when unset. */
export function parseMasterKeys(value: string | undefined): MasterKey[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseMasterKey);
}

/** A fresh key in the `id:base64` form, for `npm run keys -- generate`. */
export function generateMasterKey(id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * Encrypts secrets at rest with AES-256-GCM; ciphertexts are self-describing strings that name
 * the key they were made with. New ones always use the current key; the previous keys are only
 * read, so a rotation (`npm run keys -- rotate`) can re-encrypt while every process still reads both.
 */
export class SecretBox {
  readonly #current: MasterKey;
  readonly #byId = new Map<string, MasterKey>();
  readonly #all: MasterKey[];

  constructor(current: Buffer | MasterKey, previous: readonly MasterKey[] = []) {
    const key = Buffer.isBuffer(current) ? current : current.key;
    if (key.length !== 32) throw new SecretBoxError('master key must be 32 bytes (base64 of 32 random bytes)');
    this.#current = Buffer.isBuffer(current) ? { id: fingerprint(current), key } : current;
    this.#all = [this.#current, ...previous.filter((k) => !k.key.equals(key))];
    for (const k of [...this.#all].reverse()) this.#byId.set(k.id, k);
  }

  /** From the settings' text: the current key and, optionally, the comma-separated previous ones. */
  static fromBase64(current: string, previous?: string): SecretBox {
    return new SecretBox(parseMasterKey(current), parseMasterKeys(previous));
  }

  /** The id new ciphertexts carry. */
  get keyId(): string {
    return this.#current.id;
  }

  /** The key id a ciphertext names; null for one written before ids (v1) or not ours at all. */
  static keyIdOf(ciphertext: string): string | null {
    const [version, id] = ciphertext.split(':', 3);
    return version === VERSION && id !== undefined ? id : null;
  }

  /** Whether a ciphertext is already under the current key (a rotation skips it). */
  isCurrent(ciphertext: string): boolean {
    return SecretBox.keyIdOf(ciphertext) === this.#current.id;
  }

  /** `aad` binds a ciphertext to its owner (e.g. `integration:<id>`) so rows cannot be swapped. */
  encrypt(plaintext: string, aad = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${this.#current.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(ciphertext: string, aad = ''): string {
    const parts = ciphertext.split(':');
    let candidates: MasterKey[];
    let payload: string | undefined;
    if (parts[0] === VERSION && parts.length === 3) {
      const named = this.#byId.get(parts[1]!);
      // An unknown id may still be a configured key written under another name (an id added later).
      candidates = named ? [named] : this.#all;
      payload = parts[2];
    } else if (parts[0] === LEGACY_VERSION && parts.length === 2) {
      candidates = this.#all;
      payload = parts[1];
    } else {
      throw new SecretBoxError('unrecognised ciphertext');
    }
    const raw = Buffer.from(payload ?? '', 'base64');
    for (const k of candidates) {
      const plain = open(k.key, raw, aad);
      if (plain !== undefined) return plain;
    }
    const id = SecretBox.keyIdOf(ciphertext);
    throw new SecretBoxError(
      id && !this.#byId.has(id)
        ? `secret could not be decrypted: it was encrypted under master key "${id}", which is neither SWITCHYARD_MASTER_KEY nor in SWITCHYARD_PREVIOUS_KEYS`
        : 'secret could not be decrypted (wrong master key or tampered data)',
    );
  }

  encryptJson(value: unknown, aad = ''): string {
    return this.encrypt(JSON.stringify(value), aad);
  }

  decryptJson<T>(ciphertext: string, aad = ''): T {
    return JSON.parse(this.decrypt(ciphertext, aad)) as T;
  }
}

/** AES-256-GCM open; undefined when this key (or the aad) does not fit. */
function open(key: Buffer, raw: Buffer, aad: string): string | undefined {
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  // The tag length is pinned: a truncated tag would otherwise be accepted and weaken the check.
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The master key's text. `embedded` (the launcher, `npm start`): from the environment, else read
 * from (or generated into) `<dataDir>/master.key` with owner-only permissions. `file-ok` (command
 * line tools): the environment or an existing file, never a new key. `required` (the API and the
 * worker run on their own): the environment only, so split processes cannot each make their own.
 */
export function loadMasterKey(options: {
  fromEnv: string | undefined;
  dataDir: string;
  mode: 'embedded' | 'file-ok' | 'required';
}): string {
  if (options.fromEnv) return options.fromEnv;
  if (options.mode === 'required') {
    throw new SecretBoxError(
      'SWITCHYARD_MASTER_KEY is not set. Outside `npm start` every API and worker process needs the same key: ' +
        'set SWITCHYARD_MASTER_KEY (e.g. the output of `npm run keys -- generate`, or the content of <data dir>/master.key).',
    );
  }
  const file = path.join(options.dataDir, 'master.key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  if (options.mode !== 'embedded') {
    throw new SecretBoxError(`SWITCHYARD_MASTER_KEY is not set and ${file} does not exist`);
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
