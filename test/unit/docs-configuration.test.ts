import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS, loadConfig } from '../../src/platform/config';

/**
 * docs/configuration.md is the one place a person looks a setting up, so its table must name
 * exactly the settings of the schema in src/platform/config.ts (CONFIG_KEYS is the keys of the
 * zod schema's shape), and a default it writes as a value must be the schema's.
 */
const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

interface Row {
  name: string;
  defaultCell: string;
  meaning: string;
}

/** The table's rows: one per line, `| \`NAME\` | default | meaning |`. */
const rows: Row[] = doc.split('\n').flatMap((line) => {
  const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$/.exec(line);
  return m ? [{ name: m[1]!, defaultCell: m[2]!, meaning: m[3]! }] : [];
});
const documented = rows.map((r) => r.name);

test('every setting of src/platform/config.ts has a row in docs/configuration.md', () => {
  expect(CONFIG_KEYS.filter((k) => !documented.includes(k))).toEqual([]);
});

test('docs/configuration.md lists no setting that src/platform/config.ts does not have', () => {
  expect(documented.filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
});

test('each setting has one row, with a default and a meaning', () => {
  expect(documented.filter((k, i) => documented.indexOf(k) !== i)).toEqual([]);
  for (const r of rows) expect([r.name, r.defaultCell !== '', r.meaning !== '']).toEqual([r.name, true, true]);
});

test('a default written as a value is the default; one written in words is no value', () => {
  const defaults = loadConfig({}) as Record<string, unknown>;
  for (const r of rows.filter((row) => CONFIG_KEYS.includes(row.name))) {
    const literal = /^`([^`]*)`$/.exec(r.defaultCell);
    if (literal) {
      // Setting the documented default must change nothing.
      const given = loadConfig({ [r.name]: literal[1] }) as Record<string, unknown>;
      expect([r.name, given[r.name]]).toEqual([r.name, defaults[r.name]]);
    } else {
      // "(unset)", "(empty)", "(generated)": the schema gives no value of its own.
      const v = defaults[r.name];
      expect([r.name, v === undefined || v === '' || (Array.isArray(v) && v.length === 0)]).toEqual([r.name, true]);
    }
  }
});
