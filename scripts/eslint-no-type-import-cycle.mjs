// ESLint rule local/no-type-import-cycle: a type-only import (`import type`, `export type ... from`)
// in src/ that closes an import cycle. import-x/no-cycle finds cycles of runtime imports only (it
// skips type imports, which tsc erases), so a cycle with a type-only edge in it passes there; it
// still ties the modules together (neither can be understood, moved or split without the other).
// Together the two rules leave no cycle in src/.
//
// The graph is every relative import and re-export between the .ts files under src/, read from
// disk with TypeScript's preProcessFile (import names only, no type checking); each file is
// parsed again only when its mtime changes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/** file -> { mtimeMs, deps } */
const parsed = new Map();

function resolveRelative(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base.replace(/\.js$/, '.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function fileDeps(file) {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const cached = parsed.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.deps;
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, false);
  const deps = importedFiles.map((f) => resolveRelative(file, f.fileName)).filter((f) => f !== undefined);
  parsed.set(file, { mtimeMs, deps });
  return deps;
}

/** A path of imports from `start` back to `goal`, or undefined (breadth first: the shortest). */
function pathBack(start, goal) {
  const from = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    if (file === goal) {
      const route = [];
      for (let f = file; f !== undefined; f = from.get(f)) route.unshift(f);
      return route;
    }
    let deps;
    try {
      deps = fileDeps(file);
    } catch {
      continue; // deleted meanwhile
    }
    for (const dep of deps) {
      if (!from.has(dep)) {
        from.set(dep, file);
        queue.push(dep);
      }
    }
  }
  return undefined;
}

function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  return specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'disallow a type-only import that closes an import cycle (import-x/no-cycle skips type imports)' },
    schema: [],
    messages: { cycle: 'Import cycle through a type-only import: {{route}}' },
  },
  create(context) {
    const file = context.filename;
    const root = path.join(context.cwd, 'src');
    const check = (node) => {
      if (!node.source || typeof node.source.value !== 'string' || !isTypeOnly(node)) return;
      const target = resolveRelative(file, node.source.value);
      if (target === undefined || !target.startsWith(root + path.sep)) return;
      const route = pathBack(target, file);
      if (route === undefined) return;
      const names = [file, ...route].map((f) => path.relative(context.cwd, f));
      context.report({ node, messageId: 'cycle', data: { route: names.join(' -> ') } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default { rules: { 'no-type-import-cycle': rule } };
