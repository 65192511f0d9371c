import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'path',
  'http',
  'https',
  'net',
  'crypto',
  'child_process',
  'os',
  'dns',
  'tls',
  'stream',
  'worker_threads',
];

/** Names of query-module functions (src/<capability>/db/*) that write (insert…, update…, claim…): off limits to src/api. */
const DB_WRITE_NAMES =
  '^(insert|update|delete|upsert|mark|claim|set|create|record|release|store|save|begin|finish|take|reset|reopen|hold|fill|expire|disable|append)[A-Z]';

const API_NO_DB_WRITES = {
  patterns: [
    {
      group: ['**/db/*', '!**/platform/db/pool', '!**/platform/db/migrate', '!**/platform/db/keyset'],
      importNamePattern: DB_WRITE_NAMES,
      message: "src/api must not write through query modules: go through its capability's service or intake.",
    },
  ],
};

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
    // Workflow code must stay deterministic: no Node built-ins, database, HTTP or Express. What it
    // loads at run time beyond @temporalio/* is held by scripts/check-architecture.ts.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins,
            ...nodeBuiltins.map((m) => `node:${m}`),
            'pg',
            'express',
            'undici',
            'axios',
            'pino',
          ].map((name) => ({ name, message: 'Workflows must be deterministic: do this in an activity.' })),
          patterns: [
            {
              group: ['**/activities/**', '**/db/**', '**/api/**', '**/platform/**', '**/graph/**'],
              allowTypeImports: true,
              message: 'Import types only.',
            },
          ],
        },
      ],
    },
  },
  {
    // Route handlers parse, call a service or intake, and answer: database writes happen behind them.
    files: ['src/api/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', API_NO_DB_WRITES] },
  },
  {
    // One route to Temporal: workflows are started, signalled and updated only by the typed
    // starters (src/<capability>/*-starter.ts), which the intake outbox drives.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*-starter.ts', 'src/retention/starter.ts', 'src/workflows/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression > MemberExpression.callee[property.name=/^(start|signalWithStart|execute|executeUpdateWithStart|startUpdateWithStart)$/][object.property.name='workflow']",
          message: 'Start workflows through the intake outbox and a typed starter (src/<capability>/*-starter.ts).',
        },
        {
          selector:
            'CallExpression > MemberExpression.callee[property.name=/^(signal|executeUpdate|startUpdate|terminate)$/]',
          message: 'Signal and update workflows through a typed starter (src/<capability>/*-starter.ts).',
        },
        {
          selector: "CallExpression > MemberExpression.callee[property.name='create'][object.property.name='schedule']",
          message: 'Create schedules in a typed starter (src/<capability>/*-starter.ts).',
        },
      ],
    },
  },
  {
    // The worker process does not load the HTTP API.
    files: ['src/worker.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['./api', './api/*'], message: 'src/worker.ts must not import src/api.' }] },
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
        [
          'window',
          'document',
          'location',
          'fetch',
          'sessionStorage',
          'setTimeout',
          'clearTimeout',
          'URLSearchParams',
          'Console',
        ].map((g) => [g, g === 'Console' ? 'writable' : 'readonly']),
      ),
    },
    rules: { 'no-redeclare': 'off', '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
