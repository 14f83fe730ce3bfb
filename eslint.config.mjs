// ESLint 9 flat config: typescript-eslint's recommended rules (and its type-checked ones for
// TypeScript) over src, test, bench and scripts, eslint-config-prettier last (formatting is
// prettier's job: `npm run lint` checks it), and no import cycle in src/.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import local from './scripts/eslint-no-type-import-cycle.mjs';

export default defineConfig(
  { ignores: ['dist/', 'build/', '.bench-out/', 'node_modules/'] },
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2022, globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks a name as unused on purpose (a hook's parameter, a property
      // split off by destructuring); rest siblings are how a property is left out of a copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Type-aware rules (about 10 s for the whole tree). bench/ imports the built package
    // (../../dist/sandbox), so its types come from dist/: `npm run lint` builds first.
    files: ['**/*.{ts,mts}'],
    extends: [tseslint.configs.recommendedTypeCheckedOnly],
    languageOptions: { parserOptions: { project: 'tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Off: the code writes `xs[i]!` and `const [a] = ...; a!` on indexed access on purpose (the
      // noUncheckedIndexedAccess style), which tsconfig does not enable; the rule calls ~250 of
      // those unnecessary and its fix would strip them all.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Off: an async function without await is how this code implements a Promise-returning
      // interface with synchronous work (fakes, fs *Sync calls) so that a throw becomes a
      // rejection; the rule would have each rewritten as Promise.resolve/reject by hand.
      '@typescript-eslint/require-await': 'off',
      // Passing a caught error on as it is (`catch (e) { reject(e) }`) is allowed, as
      // only-throw-error allows `throw e`.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // Off in tests: they poke at parsed JSON (JSON.parse returns any) and use vitest's asymmetric
    // matchers (expect.any, expect.stringContaining, ...), which are typed any.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // CommonJS scripts (test fixtures run by node directly): require() is how they load things.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX, local },
    settings: {
      // import-x's TypeScript settings (which files it parses, with which parser), with the
      // TypeScript resolver reading tsconfig.json (extensionless relative imports, index.ts).
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: {
      // No import cycle in src/: import-x/no-cycle finds those of runtime imports (it skips
      // `import type`, erased by tsc); local/no-type-import-cycle the ones a type-only import closes.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'local/no-type-import-cycle': 'error',
    },
  },
  prettier,
);
