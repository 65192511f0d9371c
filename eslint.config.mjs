import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs', 'path', 'http', 'https', 'net', 'crypto', 'child_process', 'os', 'dns', 'tls', 'stream', 'worker_threads',
];

export default tseslint.config(
  { ignores: ['src/console/**/*.js.map', 'node_modules/**', '.data/**', 'dist/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    // Workflow code must stay deterministic: no Node built-ins, database, HTTP or Express.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...nodeBuiltins.map((m) => `node:${m}`), 'pg', 'express', 'undici', 'axios', 'pino'].map(
            (name) => ({ name, message: 'Workflows must be deterministic: do this in an activity.' }),
          ),
          patterns: [
            { group: ['../activities/*', '../db/*', '../api/*', '../http/*'], allowTypeImports: true, message: 'Import types only.' },
          ],
        },
      ],
    },
  },
  {
    // The console's browser scripts share one global namespace object, `Console`.
    files: ['src/console/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'fetch', 'sessionStorage', 'setTimeout', 'clearTimeout', 'URLSearchParams', 'Console'].map(
          (g) => [g, g === 'Console' ? 'writable' : 'readonly'],
        ),
      ),
    },
    rules: { 'no-redeclare': 'off', '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
