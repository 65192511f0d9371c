/**
 * Lint step: the import graph under src/ has no cycles and every import follows the layer order.
 * Type-only imports count: `import type` is erased at run time, but it still ties the two
 * modules together for whoever reads or changes them.
 *
 * Layers, top to bottom (a layer imports only itself and the layers below it):
 *   spine     src/api, src/activities, src/workflows, src/*.ts (entry points, the job families)
 *   capability src/outgoing, src/incoming, src/mail, src/retention, src/overview
 *   embedded  src/embedded (the one-command stack: supervisor, embedded PostgreSQL, dev server)
 *   platform  src/platform
 * and across capabilities only through the other one's public module (`src/<capability>/index.ts`).
 * Workflow code loads only `@temporalio/*`, other workflow code and the capabilities'
 * `workflow-contract` modules at run time; everything else it imports as types.
 *
 * Usage: `tsx scripts/check-architecture.ts` (exits 1 and lists every violation).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');
export const CAPABILITIES = ['outgoing', 'incoming', 'mail', 'retention', 'overview'] as const;
const NODE_BUILTINS = new Set(['fs', 'path', 'http', 'https', 'net', 'crypto', 'child_process', 'os', 'dns', 'tls']);

export interface Import {
  from: string;
  /** A file under src/ for relative imports; the package name otherwise. */
  to: string;
  typeOnly: boolean;
  line: number;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(e.name) && !/\.(test|d)\.ts$/.test(e.name) ? [full] : [];
  });
}

function resolve(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => fs.existsSync(f) && f.endsWith('.ts')) ?? base;
}

function allTypes(clause: ts.NamedImportBindings | ts.NamedExportBindings | undefined): boolean {
  if (!clause) return false;
  const elements = ts.isNamedImports(clause) || ts.isNamedExports(clause) ? clause.elements : undefined;
  return !!elements && elements.length > 0 && elements.every((e) => e.isTypeOnly);
}

/** Every import and re-export of a file, with whether it exists only for the type checker. */
export function importsOf(file: string): Import[] {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const out: Import[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, node: ts.Node) => {
    if (!spec || !ts.isStringLiteral(spec)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    out.push({ from: file, to: resolve(file, spec.text), typeOnly, line });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      add(node.moduleSpecifier, !!c && (c.isTypeOnly || (!c.name && allTypes(c.namedBindings))), node);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly || allTypes(node.exportClause), node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true, node);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isImport || isRequire) add(node.arguments[0], false, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

type Layer = 'spine' | 'capability' | 'embedded' | 'platform';
const RANK: Record<Layer, number> = { spine: 3, capability: 2, embedded: 1, platform: 0 };

export function placeOf(file: string): { layer: Layer; capability?: string; workflow: boolean } {
  const rel = path.relative(SRC, file).split(path.sep);
  const top = rel[0]!;
  if (top === 'platform') return { layer: 'platform', workflow: false };
  if (top === 'embedded') return { layer: 'embedded', workflow: false };
  if ((CAPABILITIES as readonly string[]).includes(top))
    return { layer: 'capability', capability: top, workflow: false };
  return { layer: 'spine', workflow: top === 'workflows' };
}

/** What is wrong with one import, or undefined when it follows the rules. */
export function violation(imp: Import): string | undefined {
  const local = imp.to.startsWith(SRC + path.sep);
  const from = placeOf(imp.from);
  if (from.workflow) {
    if (!local) {
      if (imp.typeOnly || imp.to.startsWith('@temporalio/')) return undefined;
      return `workflow code loads ${imp.to}: do this in an activity`;
    }
    const to = placeOf(imp.to);
    if (imp.typeOnly || to.workflow || /\/workflow-contract\.ts$/.test(imp.to)) return undefined;
    return 'workflow code loads a module that is neither workflow code nor a workflow-contract: import its types only';
  }
  if (!local) {
    if (
      from.layer !== 'spine' &&
      NODE_BUILTINS.has(imp.to) === false &&
      imp.to === 'express' &&
      from.layer === 'platform'
    )
      return undefined;
    return undefined;
  }
  const to = placeOf(imp.to);
  if (RANK[to.layer] > RANK[from.layer])
    return `${from.layer} imports ${to.layer}: the layer order is spine → capability → embedded → platform`;
  if (from.layer === 'capability' && to.layer === 'capability' && from.capability !== to.capability) {
    if (path.relative(SRC, imp.to) !== path.join(to.capability!, 'index.ts'))
      return `${from.capability} reaches into ${to.capability}: import its public module src/${to.capability}/index.ts`;
  }
  return undefined;
}

/** Strongly connected components of more than one module (or a module importing itself). */
export function findCycles(graph: Map<string, string[]>): string[][] {
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
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  return cycles;
}

/** One concrete loop through a component, for the message: a → b → … → a. */
function loopThrough(component: string[], graph: Map<string, string[]>): string[] {
  const inside = new Set(component);
  const start = [...component].sort()[0]!;
  const seen = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const loop = [v];
        while (loop[0] !== start) loop.unshift(seen.get(loop[0]!)!);
        return [...loop, start];
      }
      if (!seen.has(w)) {
        seen.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

export function checkArchitecture(root = SRC): string[] {
  const files = sourceFiles(root);
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const imports = importsOf(f);
    graph.set(
      f,
      imports.filter((i) => i.to.startsWith(SRC + path.sep)).map((i) => i.to),
    );
    for (const i of imports) {
      const why = violation(i);
      if (why) problems.push(`${path.relative(ROOT, f)}:${i.line} → ${path.relative(ROOT, i.to)}: ${why}`);
    }
  }
  for (const c of findCycles(graph)) {
    const loop = loopThrough(c, graph).map((f) => path.relative(ROOT, f));
    problems.push(`import cycle (${c.length} modules, type-only imports included): ${loop.join(' → ')}`);
  }
  return problems;
}

if (require.main === module) {
  const problems = checkArchitecture();
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length) {
    process.stderr.write(`${problems.length} architecture violation(s)\n`);
    process.exit(1);
  }
  process.stdout.write('no import cycles and no imports against the layer order\n');
}
