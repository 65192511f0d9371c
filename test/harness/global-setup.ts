import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { findTemporalCli, MISSING_CLI_HELP } from '../../src/embedded/temporal-cli';
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/platform/temporal/search-attributes';
import { createLogger } from '../../src/platform/logger';
import { freePort } from './free-port';
import { HARNESS_BASE, ROOT, type HarnessInfo } from './paths';

/**
 * One Temporal dev server (the provisioned CLI, started through @temporalio/testing) and one
 * PostgreSQL for the whole run: DATABASE_URL when set, else an embedded one. Each suite then
 * gets its own database and task queue (see stack.ts).
 */
export default async function globalSetup(): Promise<void> {
  const cli = findTemporalCli(process.env['TEMPORAL_CLI_PATH']);
  if (!cli) throw new Error(MISSING_CLI_HELP);
  const harnessDir = path.join(HARNESS_BASE, `run-${process.pid}`);
  fs.rmSync(harnessDir, { recursive: true, force: true });
  fs.mkdirSync(harnessDir, { recursive: true });
  const logger = createLogger({ level: 'warn' });

  const uiPort = await freePort();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      // The Web UI too, so browser tests can open a record's workflow link.
      ui: true,
      uiPort,
      executable: { type: 'existing-path', path: cli },
      namespace: 'default',
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
  const g = globalThis as { __switchyardHarness?: { stop: () => Promise<void> } };

  let adminDatabaseUrl = process.env['DATABASE_URL'];
  let stopDb = async () => undefined as void;
  if (!adminDatabaseUrl) {
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(harnessDir, 'pg'),
      port: await freePort(),
      logger,
      database: 'postgres',
    });
    adminDatabaseUrl = embedded.url;
    stopDb = () => embedded.stop();
  }

  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(ROOT, 'src', 'workflows', 'index.ts'),
    logger: new DefaultLogger('WARN'),
  });
  const workflowBundlePath = path.join(harnessDir, 'workflow-bundle.js');
  fs.writeFileSync(workflowBundlePath, code);

  const info: HarnessInfo = {
    temporalAddress: env.address,
    temporalUiUrl: `http://127.0.0.1:${uiPort}`,
    adminDatabaseUrl,
    workflowBundlePath,
  };
  const harnessFile = path.join(harnessDir, 'harness.json');
  fs.writeFileSync(harnessFile, JSON.stringify(info));
  process.env['SWITCHYARD_HARNESS_FILE'] = harnessFile;
  g.__switchyardHarness = {
    stop: async () => {
      await env.teardown();
      await stopDb();
      fs.rmSync(harnessDir, { recursive: true, force: true });
    },
  };
}
