import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { trivialWorkflow } from './trivial-workflow';

export interface EngineCeiling {
  /** Trivial workflows started and completed per second. */
  workflowsPerSecond: number;
  workflows: number;
  concurrency: number;
}

let runtimeInstalled = false;

/**
 * The Temporal server's own ceiling on this machine: how many trivial workflows (start,
 * one workflow task, complete) it runs per second with `concurrency` in flight, through a
 * worker in this process on a task queue of its own. Product benchmarks compare against it.
 */
export async function measureEngineCeiling(o: {
  address: string;
  namespace?: string;
  workflows?: number;
  concurrency?: number;
}): Promise<EngineCeiling> {
  const workflows = o.workflows ?? 500;
  const concurrency = o.concurrency ?? 20;
  const namespace = o.namespace ?? 'default';
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const taskQueue = `engine-ceiling-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: o.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    workflowsPath: require.resolve('./trivial-workflow'),
  });
  const connection = await Connection.connect({ address: o.address });
  const client = new Client({ connection, namespace });
  const run = worker.run();
  try {
    const runOne = (id: string) =>
      client.workflow.execute<typeof trivialWorkflow>('trivialWorkflow', { taskQueue, workflowId: id, args: [] });
    // Warm-up: the first tasks pay for caches and connections.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => runOne(`warm-${i}-${taskQueue}`)));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < workflows) await runOne(`trivial-${next++}-${taskQueue}`);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { workflowsPerSecond: workflows / seconds, workflows, concurrency };
  } finally {
    worker.shutdown();
    await run;
    await connection.close();
    await nativeConnection.close();
  }
}
