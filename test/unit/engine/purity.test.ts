// Acceptance 1 of issue 4: the engine imports nothing that does I/O, reads the clock or uses
// randomness. Every file under src/engine is parsed with the TypeScript compiler: imports must
// be relative and stay inside src/engine (or be type-only), and no global that reaches the
// outside world (clock, randomness, timers, process, network, require) may be referenced.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENGINE_DIR = resolve(__dirname, '../../../src/engine');

const FORBIDDEN_GLOBALS = new Set([
  'Date',
  'performance',
  'process',
  'require',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
  'fetch',
  'crypto',
  'globalThis',
  'global',
  'Buffer',
  'console',
  'eval',
  'Function',
]);

function engineFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return engineFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Problems in one source text (exported to the test below through a closure, not the package). */
function impurities(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const problems: string[] = [];
  const where = (node: ts.Node): string => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart());
    return `${relative(process.cwd(), fileName)}:${line + 1}:${character + 1}`;
  };
  const checkSpecifier = (node: ts.Node, spec: string, typeOnly: boolean): void => {
    if (typeOnly) return;
    if (!spec.startsWith('./') && !spec.startsWith('../')) {
      problems.push(`${where(node)}: imports '${spec}' (only relative imports inside src/engine are allowed)`);
      return;
    }
    const target = resolve(dirname(fileName), spec);
    if (target !== ENGINE_DIR && !target.startsWith(`${ENGINE_DIR}/`)) problems.push(`${where(node)}: imports '${spec}' from outside src/engine`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.importClause?.isTypeOnly === true;
      checkSpecifier(node, node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      checkSpecifier(node, node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node)) {
      problems.push(`${where(node)}: import = require(...) is not allowed`);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      problems.push(`${where(node)}: dynamic import() is not allowed`);
    } else if (ts.isIdentifier(node) && FORBIDDEN_GLOBALS.has(node.text)) {
      const parent = node.parent;
      // `x.Date` or `{ Date: ... }` name a property, not the global.
      const isPropertyName = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
      if (!isPropertyName) problems.push(`${where(node)}: uses '${node.text}'`);
    } else if (ts.isPropertyAccessExpression(node) && node.getText(source).replace(/\s/g, '') === 'Math.random') {
      problems.push(`${where(node)}: uses Math.random`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

describe('src/engine purity', () => {
  const files = engineFiles(ENGINE_DIR);

  it('covers every part of the engine (the simulator, which drives the async interpreter, lives in src/simulator)', () => {
    const names = files.map((f) => relative(ENGINE_DIR, f));
    expect(names).toEqual(expect.arrayContaining(['engine.ts', 'election.ts', 'types.ts', 'index.ts', 'effect-traits.ts', 'link.ts', 'plan.ts', 'absorb.ts']));
  });

  it('imports nothing with I/O, clock or randomness', () => {
    const problems = files.flatMap((f) => impurities(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('the scanner itself catches each kind of impurity', () => {
    const bad = [
      "import { readFileSync } from 'node:fs';",
      "import x from '../config/parse';",
      'const t = Date.now();',
      'const r = Math.random();',
      'const p = performance.now();',
      "const m = await import('./engine');",
      'setTimeout(() => 0, 1);',
      "import type { Foo } from 'node:fs';",
    ].join('\n');
    const problems = impurities(join(ENGINE_DIR, 'bad.ts'), bad);
    expect(problems.map((p) => p.replace(/^.*?:(\d+):\d+: /, '$1 '))).toEqual([
      "1 imports 'node:fs' (only relative imports inside src/engine are allowed)",
      "2 imports '../config/parse' from outside src/engine",
      "3 uses 'Date'",
      '4 uses Math.random',
      "5 uses 'performance'",
      '6 dynamic import() is not allowed',
      "7 uses 'setTimeout'",
    ]);
  });
});
