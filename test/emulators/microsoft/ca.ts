import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

/** PEM material the emulator's HTTPS server needs, plus the CA file children must trust. */
export interface EmulatorCa {
  /** Absolute path of the CA certificate; set it as NODE_EXTRA_CA_CERTS before a child process starts. */
  caPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Where the emulator keeps its CA unless told otherwise; stable so a CA path can be exported before tests start. */
export const DEFAULT_CERT_DIR = path.join(os.tmpdir(), 'switchyard-microsoft-emulator-ca');

const FILES = { ca: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
// A stale lock (a process killed mid-generation) must not block every later run.
const STALE_LOCK_MS = 30_000;

/**
 * Returns a CA and a `localhost` / `127.0.0.1` / `::1` server certificate from `dir`, creating them on first use.
 * Existing files are reused so a CA path handed to child processes stays valid across runs.
 */
export async function ensureEmulatorCa(dir: string = DEFAULT_CERT_DIR): Promise<EmulatorCa> {
  const absoluteDir = path.resolve(dir);
  await mkdir(absoluteDir, { recursive: true });
  const existing = await readValid(absoluteDir);
  if (existing) return existing;

  // Several jest workers may start emulators at once: one generates, the others wait and reuse.
  const release = await acquireLock(path.join(absoluteDir, '.lock'));
  try {
    const afterWait = await readValid(absoluteDir);
    if (afterWait) return afterWait;
    await generate(absoluteDir);
    const created = await readValid(absoluteDir);
    if (!created) throw new Error(`freshly generated certificates in ${absoluteDir} failed validation`);
    return created;
  } finally {
    await release();
  }
}

async function readValid(dir: string): Promise<EmulatorCa | null> {
  const [caPem, certPem, keyPem] = await Promise.all([
    readOptional(path.join(dir, FILES.ca)),
    readOptional(path.join(dir, FILES.cert)),
    readOptional(path.join(dir, FILES.key)),
  ]);
  if (!caPem || !certPem || !keyPem) return null;
  try {
    const ca = new X509Certificate(caPem);
    const server = new X509Certificate(certPem);
    const freshEnough = Date.parse(server.validTo) - Date.now() > 7 * DAY_MS;
    const valid =
      ca.ca &&
      server.checkIssued(ca) &&
      server.verify(ca.publicKey) &&
      server.checkHost('localhost') !== undefined &&
      server.checkIP('127.0.0.1') !== undefined &&
      server.checkPrivateKey(createPrivateKey(keyPem)) &&
      freshEnough;
    return valid ? { caPath: path.join(dir, FILES.ca), caPem, certPem, keyPem } : null;
  } catch {
    return null;
  }
}

async function generate(dir: string): Promise<void> {
  // Keep an existing CA when only the server certificate is stale: children may already trust it.
  const ca = (await loadCa(dir)) ?? createCa();
  const server = createServerCert(ca);
  await writeAtomic(path.join(dir, FILES.caKey), forge.pki.privateKeyToPem(ca.key), 0o600);
  await writeAtomic(path.join(dir, FILES.key), forge.pki.privateKeyToPem(server.key), 0o600);
  await writeAtomic(path.join(dir, FILES.cert), forge.pki.certificateToPem(server.cert), 0o644);
  await writeAtomic(path.join(dir, FILES.ca), forge.pki.certificateToPem(ca.cert), 0o644);
}

interface Issued {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

async function loadCa(dir: string): Promise<Issued | null> {
  const [certPem, keyPem] = await Promise.all([
    readOptional(path.join(dir, FILES.ca)),
    readOptional(path.join(dir, FILES.caKey)),
  ]);
  if (!certPem || !keyPem) return null;
  try {
    const cert = forge.pki.certificateFromPem(certPem);
    const key = forge.pki.privateKeyFromPem(keyPem);
    return cert.validity.notAfter.getTime() - Date.now() > 30 * DAY_MS ? { cert, key } : null;
  } catch {
    return null;
  }
}

function createCa(): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  const subject = [
    { name: 'commonName', value: 'Switchyard Microsoft Emulator Test CA' },
    { name: 'organizationName', value: 'Switchyard tests' },
  ];
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 3650 * DAY_MS);
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

function createServerCert(ca: Issued): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 825 * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

// X.509 serials must be positive: clear the top bit of the first byte.
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

// Rename is atomic, so a child process reading NODE_EXTRA_CA_CERTS never sees a half-written file.
async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content, { mode });
  await rename(temp, file);
}

async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await unlink(lockPath).catch(() => undefined);
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for certificate lock ${lockPath}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
