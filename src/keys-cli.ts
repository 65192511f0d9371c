import { loadConfig } from './platform/config';
import { createBaseContext } from './platform/context';
import { cliDatabaseUrl } from './platform/db/cli-database-url';
import { countByKey, rotateStoredSecrets } from './platform/security/key-rotation';
import { generateMasterKey } from './platform/security/secret-box';
import { STORED_SECRETS } from './stored-secrets';

/**
 * `npm run keys -- <command>`, the master key's life cycle:
 * - `generate [id]`: prints a new key as `id:base64`, for SWITCHYARD_MASTER_KEY;
 * - `status`: how many stored secrets each key id holds;
 * - `rotate`: re-encrypts every stored secret under SWITCHYARD_MASTER_KEY, reading the old ones
 *   with SWITCHYARD_PREVIOUS_KEYS. Run it once every API and worker has the new key (and the old
 *   ones as previous keys); they keep reading both meanwhile. Exits 1 when anything is left.
 */
const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  const [command, arg] = process.argv.slice(2);
  if (command === 'generate') {
    out(generateMasterKey(arg));
    return 0;
  }
  if (command !== 'status' && command !== 'rotate') {
    process.stderr.write('usage: npm run keys -- generate [id] | status | rotate\n');
    return 2;
  }
  const config = loadConfig();
  const ctx = createBaseContext('cli', config, cliDatabaseUrl(config));
  try {
    if (command === 'status') {
      out(`current key: ${ctx.secrets.keyId}`);
      for (const r of await countByKey(ctx.db, STORED_SECRETS)) out(`${r.secret}: ${r.rows} under ${r.keyId}`);
      return 0;
    }
    out(`re-encrypting every stored secret under key ${ctx.secrets.keyId}`);
    let failed = false;
    for (const r of await rotateStoredSecrets(ctx.db, ctx.secrets, STORED_SECRETS)) {
      out(`${r.secret}: ${r.reencrypted} re-encrypted${r.left ? `, ${r.left} left` : ''}`);
      for (const e of r.errors) out(`  ${e}`);
      failed ||= r.left > 0;
    }
    if (failed) {
      out(
        'not finished: keep the previous keys, make sure every process runs with the new SWITCHYARD_MASTER_KEY, and run it again',
      );
      return 1;
    }
    out('done: every stored secret is under the current key; the previous keys can be removed');
    return 0;
  } finally {
    await ctx.db.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`keys failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
