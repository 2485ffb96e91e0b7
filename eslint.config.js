// ESLint 9 flat config: typescript-eslint's type-aware `recommendedTypeChecked` over every
// TypeScript file the project compiles (lib/, test/, sample/, bench/ through tsconfig.json),
// plain JS rules for the pack-check scripts. Formatting is Prettier's job: eslint-config-prettier
// (last) switches off every stylistic rule that would fight it. `npm run lint` fails on errors.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'build/', 'coverage/', 'bench/results/', 'scripts/pack-check/**/dist/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Relaxed: the code writes `!` on indexed access (`prev[j]!`, `commands[name]!`) as if
      // `noUncheckedIndexedAccess` were on, on purpose, so each access states that it was
      // checked; without that compiler flag the rule calls every one of them unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Relaxed: `async` without `await` is deliberate where a method implements a
      // Promise-returning contract (queue backends' close(), Nest async factories, handlers):
      // it keeps the signature honest and turns a synchronous throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // Relaxed: the value describers of error messages (`describe(value)`, "got …") call
      // String() on unknown user input on purpose, objects having been handled before.
      '@typescript-eslint/no-base-to-string': 'off',
      // `_`-prefixed names and rest siblings are the codebase's way to drop a field on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Type tests name methods to inspect their types (`expectTypeOf(node.peers)`), never call them.
    files: ['test/types/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // The packed-tarball check compiles these against the installed `socket-mesh` package,
    // which exists only inside scripts/pack-check.sh's temporary project: without it every
    // import is `any`, so they get the syntactic rules only.
    files: ['scripts/pack-check/**/*.ts'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  {
    // The topology page's script runs in the browser.
    files: ['lib/core/manager-http/assets/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // page.evaluate() callbacks run in the browser: tsconfig has no DOM lib, so their DOM values
    // are unresolved types here; the test checks what they return instead.
    files: ['test/topology-page.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // A fragment appended to the README's plain example, whose variables it closes.
    files: ['scripts/pack-check/plain/readme-harness.mjs'],
    languageOptions: { globals: { nodeA: 'readonly', nodeB: 'readonly', manager: 'readonly' } },
  },
  prettier,
);
