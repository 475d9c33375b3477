// ESLint for an Ink/React codebase in strict TypeScript: typescript-eslint's type-aware rules
// (floating promises, misused promises), the React hooks rules, and the layer boundaries.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

// The house's layers (README, "The code"). Each rule is about the import as written: the relative
// path names the layer it reaches. test/unit/house-layers.test.ts checks the same rules on the
// resolved import graph and reads LAYER_EXCEPTIONS from here.
export const IO_MODULES =
  '^(node:)?(fs|fs/promises|child_process|net|http|https|dgram|readline|readline/promises|worker_threads)$|^execa$';
const restrict = (...patterns) => ['error', { patterns }];
const rule = (regex, message) => ({ regex, message });
const noIo = rule(IO_MODULES, 'no I/O here: files and processes belong to src/shell');
const noShell = (except = '') =>
  rule(`(^|/)shell/${except}`, 'call the shell through the controller (src/tui) or the Control');
const noUp = (layers, message) => rule(`(^|/)(${layers})/`, message);

/**
 * Known violations, each to be removed by the issue it names. `file` may import from `allows`
 * (folders below src/) until then. Keep this list short and name the issue.
 */
export const LAYER_EXCEPTIONS = [];

const layers = [
  {
    // The core: pure, no I/O, nothing from the layers above it.
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': restrict(
        noIo,
        noUp(
          'shell|tui|cli',
          'src/core imports nothing from shell, tui or cli: move the type to src/core',
        ),
      ),
    },
  },
  {
    // The shell: never the views or the commands.
    files: ['src/shell/**'],
    rules: {
      'no-restricted-imports': restrict(
        noUp('tui|cli', 'src/shell imports nothing from tui or cli'),
      ),
    },
  },
  {
    // The TUI's state: pure reducers over core types; only ./ and src/core.
    files: ['src/tui/state/**'],
    rules: {
      'no-restricted-imports': restrict(
        noIo,
        rule('^(react|ink)(/|$)', 'state is pure: no React, no Ink'),
        rule('^\\.(?!/|\\./\\.\\./core/)', 'state imports only ./ and src/core'),
      ),
    },
  },
  {
    // The CLI: parses, asks the shell, prints. Files, processes and prompts are the shell's.
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': restrict(
        rule(IO_MODULES, 'no I/O in the CLI: call src/shell (files, git, processes, prompts)'),
      ),
    },
  },
  {
    // Views: functions of state that send intents; never the shell, never files.
    files: ['src/tui/views/**'],
    rules: {
      'no-restricted-imports': restrict(noIo, noShell(), noUp('cli', 'views never import the CLI')),
    },
  },
  ...LAYER_EXCEPTIONS.filter((e) => e.file.startsWith('src/tui/views/')).map((e) => ({
    files: [e.file],
    rules: {
      'no-restricted-imports': restrict(
        noIo,
        noShell(`(?!${e.allows.slice('shell/'.length)})`),
        noUp('cli', 'views never import the CLI'),
      ),
    },
  })),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/dev/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Async methods that implement a Promise-returning interface need no await.
      '@typescript-eslint/require-await': 'off',
      // Terminal escape sequences are this program's subject matter.
      'no-control-regex': 'off',
      // Stores hand their methods to useSyncExternalStore; they are bound where they are made.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  ...layers,
  {
    // vitest's asymmetric matchers (expect.stringContaining, ...) are typed any.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
