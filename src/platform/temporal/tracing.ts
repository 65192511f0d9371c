import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { activeTracing } from '../tracing';

/**
 * The workflow-side interceptors (RunWorkflow and StartActivity spans, headers to activities).
 * They run inside the workflow sandbox, so they must be bundled with the workflow code: a
 * worker that bundles passes this to the bundler; a prebuilt bundle (WORKFLOW_BUNDLE_PATH)
 * carries workflow spans only when it was built with them (bundleWorkflowCode's
 * `workflowInterceptorModules`). Their spans leave the sandbox through the `exporter` sink.
 */
export const TRACING_WORKFLOW_INTERCEPTOR_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/** Client interceptors that start a span per workflow start/signal and pass its context in the headers. */
export function tracingClientInterceptors(): ClientInterceptors | undefined {
  return activeTracing() ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/** Worker options for tracing: activity spans, and the sink that exports workflow spans. */
export function tracingWorkerOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const tracing = activeTracing();
  if (!tracing) return {};
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
