/**
 * Lint step: fails when modules under src/ import each other in a cycle. Only imports that
 * exist at run time count — `import type`, `export type` and all-`type` specifier lists are
 * erased by the compiler, and `import()` / `require()` inside functions load lazily.
 * Usage: `tsx scripts/check-import-cycles.ts [dir…]` (default: src).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(e.name) && !/\.(test|d)\.ts$/.test(e.name) ? [full] : [];
  });
}

function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => f.endsWith('.ts') && fs.existsSync(f));
}

/** Relative modules a file loads when it is loaded. */
export function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const st of source.statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause && !clause.name && named && ts.isNamedImports(named) && named.elements.length > 0
          ? named.elements.every((e) => e.isTypeOnly)
          : false;
      if (onlyTypes) continue;
      specifier = st.moduleSpecifier;
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier) {
      if (st.isTypeOnly) continue;
      const clause = st.exportClause;
      if (
        clause &&
        ts.isNamedExports(clause) &&
        clause.elements.length > 0 &&
        clause.elements.every((e) => e.isTypeOnly)
      )
        continue;
      specifier = st.moduleSpecifier;
    } else if (ts.isImportEqualsDeclaration(st) && !st.isTypeOnly && ts.isExternalModuleReference(st.moduleReference)) {
      specifier = st.moduleReference.expression;
    }
    if (specifier && ts.isStringLiteral(specifier)) {
      const target = resolve(file, specifier.text);
      if (target) out.push(target);
    }
  }
  return out;
}

/** Strongly connected components of more than one module (or a module importing itself). */
export function findCycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) cycles.push(component);
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return cycles;
}

/** One concrete loop through a component, for the message: a → b → … → a. */
function loopThrough(component: string[]): string[] {
  const inside = new Set(component);
  const start = [...component].sort()[0]!;
  const seen = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of runtimeImports(v)) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(seen.get(path[0]!)!);
        return [...path, start];
      }
      if (!seen.has(w)) {
        seen.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

if (require.main === module) {
  const dirs = process.argv.slice(2);
  const files = (dirs.length ? dirs : ['src']).flatMap((d) => sourceFiles(path.resolve(ROOT, d)));
  const cycles = findCycles(files);
  for (const c of cycles) {
    const loop = loopThrough(c).map((f) => path.relative(ROOT, f));
    process.stderr.write(`import cycle (${c.length} modules): ${loop.join(' → ')}\n`);
  }
  if (cycles.length) {
    process.stderr.write(`${cycles.length} import cycle(s): break them (move the shared part into its own module).\n`);
    process.exit(1);
  }
  process.stdout.write(`no import cycles among ${files.length} modules\n`);
}
