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

/** The modules allowed to drive Temporal: the typed starters and the platform helpers they share. */
const TYPED_STARTERS = ['src/*/*-starter.ts', 'src/retention/starter.ts', 'src/platform/temporal/starting.ts'];

/**
 * What changes a workflow or a schedule, by the @temporalio/client (or common) type that declares
 * it: starting, signalling, updating, terminating or cancelling a workflow; creating, triggering,
 * backfilling, updating, pausing or deleting a schedule. Reads (describe, query, result, list) are
 * not in the list.
 */
const TEMPORAL_WRITES = {
  WorkflowClient: ['start', 'execute', 'signalWithStart', 'executeUpdateWithStart', 'startUpdateWithStart'],
  BaseWorkflowHandle: ['signal'],
  WorkflowHandle: ['signal', 'executeUpdate', 'startUpdate', 'terminate', 'cancel'],
  ScheduleClient: ['create'],
  ScheduleHandle: ['trigger', 'backfill', 'update', 'pause', 'unpause', 'delete'],
};
const TEMPORAL_PACKAGES = /[\\/]@temporalio[\\/](client|common)[\\/]/;

/** Where `name` on a value of `type` is declared, when that is one of TEMPORAL_WRITES. */
function temporalWrite(checker, type, name) {
  const types = type.isUnion() ? type.types : [type];
  for (const t of types) {
    const symbol = checker.getApparentType(checker.getNonNullableType(t)).getProperty(name);
    for (const decl of symbol?.declarations ?? []) {
      const owner = decl.parent?.name?.text;
      if (TEMPORAL_PACKAGES.test(decl.getSourceFile().fileName) && TEMPORAL_WRITES[owner]?.includes(name)) {
        return `${owner}.${name}`;
      }
    }
  }
  return undefined;
}

const oneRouteToTemporal = {
  meta: {
    type: 'problem',
    messages: {
      direct:
        '{{what}} drives Temporal directly: go through the intake outbox and a typed starter (src/<capability>/*-starter.ts).',
      helper: 'The platform start helpers are for typed starters (src/<capability>/*-starter.ts) only.',
    },
    schema: [],
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    const checker = services.program.getTypeChecker();
    const typeOf = (node) => services.getTypeAtLocation(node);
    const keyName = (key, computed) =>
      !computed && key.type === 'Identifier' ? key.name : key.type === 'Literal' ? String(key.value) : undefined;
    const check = (node, objectNode, name) => {
      if (name === undefined) return;
      const what = temporalWrite(checker, typeOf(objectNode), name);
      if (what) context.report({ node, messageId: 'direct', data: { what } });
    };
    return {
      ImportDeclaration(node) {
        if (/[\\/]platform[\\/]temporal[\\/]starting$/.test(node.source.value)) {
          context.report({ node, messageId: 'helper' });
        }
      },
      // client.workflow.start(...), handle.signal, handle['signal'], const s = handle.signal
      MemberExpression(node) {
        check(node.property, node.object, keyName(node.property, node.computed));
      },
      // const { start } = client.workflow; ({ signal } = handle)
      'VariableDeclarator > ObjectPattern.id, AssignmentExpression > ObjectPattern.left'(pattern) {
        const source = pattern.parent.type === 'VariableDeclarator' ? pattern.parent.init : pattern.parent.right;
        if (!source) return;
        for (const prop of pattern.properties) {
          if (prop.type === 'Property') check(prop.key, source, keyName(prop.key, prop.computed));
        }
      },
    };
  },
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
    // One route to Temporal: workflows are started, signalled, updated and stopped, and schedules
    // created or changed, only by the typed starters (src/<capability>/*-starter.ts), which the
    // intake outbox drives. The rule follows the types, so an alias, a destructured method or a
    // `handle['signal']` is caught as well as `client.workflow.start(...)`.
    files: ['src/**/*.ts'],
    ignores: [...TYPED_STARTERS, 'src/workflows/**'],
    plugins: { switchyard: { rules: { 'one-route-to-temporal': oneRouteToTemporal } } },
    rules: { 'switchyard/one-route-to-temporal': 'error' },
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
