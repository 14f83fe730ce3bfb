// Crash tests run our real modules in child processes that are SIGKILLed at random points.
// The children must not depend on a fresh `npm run build`, so the test transpiles the source
// files it needs (keeping their relative layout, so their relative imports resolve) into a
// temp dir and the child requires them from there.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '../../src');

/** Transpiles `files` (paths relative to src/, e.g. 'util/atomic-file.ts') into `outDir`. */
export function transpileSources(outDir: string, files: readonly string[]): void {
  for (const rel of files) {
    const source = readFileSync(path.join(SRC, rel), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const out = path.join(outDir, rel.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
}
