import fs from 'node:fs';
import path from 'node:path';
import { migrations } from './index';

test('one file per migration, named by its place in the apply order, all listed', () => {
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => /^\d{4}-.*\.ts$/.test(f))
    .sort();
  expect(files).toHaveLength(migrations.length);
  files.forEach((file, i) => {
    const m = migrations[i]!;
    expect(`${file}: id ${m.id}`).toBe(`${file}: id ${Number(file.slice(0, 4))}`);
    expect(m.id).toBe(i + 1);
    // The file defines the migration the list holds at its place.
    expect(fs.readFileSync(path.join(__dirname, file), 'utf8')).toContain(`name: '${m.name}',`);
  });
  expect(new Set(migrations.map((m) => m.name)).size).toBe(migrations.length);
});

test('the migrations that shipped under the old numbering keep their old ids, in the order they were applied', () => {
  // The old runner applied them sorted by id; their new order must be the same.
  const legacy = migrations.filter((m) => m.legacyId !== undefined).map((m) => m.legacyId!);
  expect(legacy).toEqual([1, 2, 3, 4, 10, 20, 30, 40, 41, 50, 60, 61, 80, 90, 91, 92]);
  // New migrations come after all of them.
  const firstNew = migrations.findIndex((m) => m.legacyId === undefined);
  if (firstNew >= 0) expect(migrations.slice(firstNew).every((m) => m.legacyId === undefined)).toBe(true);
});
